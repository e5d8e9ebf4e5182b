"""Runner checkpoints load under torch's safe default (weights_only=True) once mmpse_ext is
imported, and everything else stays refused."""
import collections
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner, load_checkpoint

import mmpse_ext  # noqa: F401  (allow-lists the globals on import)
from mmpse_ext.datasets import make_synthetic_icdar2015
from mmpse_ext.engine import allow_mmengine_checkpoint_globals, mmengine_checkpoint_globals

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'pse_r18_synthetic_demo.py')
ITERS_PER_EPOCH = 2  # 4 training images, batch 2


def _tiny_cfg(data_root, work_dir, max_epochs):
    """The CPU demo config at 8 px width on 4 tiny images; validation at every epoch."""
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict({
        'work_dir':
        work_dir,
        'model.backbone.base_channels':
        8,
        'model.backbone.stem_channels':
        8,
        'model.neck.in_channels': [8, 16, 32, 64],
        'model.neck.out_channels':
        16,
        'model.det_head.in_channels':
        64,
        'model.det_head.hidden_dim':
        16,
        'train_dataloader.batch_size':
        2,
        'train_dataloader.num_workers':
        0,
        'train_dataloader.persistent_workers':
        False,
        'train_dataloader.dataset.data_root':
        data_root,
        'val_dataloader.num_workers':
        0,
        'val_dataloader.persistent_workers':
        False,
        'val_dataloader.dataset.data_root':
        data_root,
        'test_dataloader.num_workers':
        0,
        'test_dataloader.persistent_workers':
        False,
        'test_dataloader.dataset.data_root':
        data_root,
        'train_cfg.max_epochs':
        max_epochs,
        'train_cfg.val_interval':
        1,
        'param_scheduler': [dict(type='MultiStepLR', milestones=[1], by_epoch=True)],
        'default_hooks.checkpoint':
        dict(type='CheckpointHook', interval=1, save_best='auto', rule='greater'),
        'default_hooks.logger.interval':
        1,
        'randomness':
        dict(seed=0),
    })
    return cfg


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    """A checkpoint written by a real one-epoch training run with validation (best + last)."""
    root = tmp_path_factory.mktemp('ckpt_run')
    data_root = str(root / 'data')
    make_synthetic_icdar2015(data_root, num_train=4, num_test=2, size_range=(128, 192), seed=3)
    work_dir = str(root / 'work')
    Runner.from_cfg(_tiny_cfg(data_root, work_dir, max_epochs=1)).train()
    return dict(data_root=data_root, work_dir=work_dir, path=osp.join(work_dir, 'epoch_1.pth'))


@pytest.fixture
def torch_default_weights_only(monkeypatch):
    """torch's own default: no process-wide switch that turns the protection off."""
    monkeypatch.delenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', raising=False)
    monkeypatch.delenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', raising=False)


@pytest.fixture
def isolated_safe_globals():
    """Restore the process-wide allow-list after a test changed it."""
    saved = torch.serialization.get_safe_globals()
    yield
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(saved)


def _entry_object(entry):
    return entry[0] if isinstance(entry, tuple) else entry


@pytest.mark.slow  # trains a model for one epoch (the runner_checkpoint fixture)
def test_runner_checkpoint_loads_with_torch_default(runner_checkpoint, torch_default_weights_only):
    checkpoint = torch.load(runner_checkpoint['path'])  # what mmengine 0.10.7 calls
    buffers = checkpoint['message_hub']['log_scalars']
    assert isinstance(buffers['train/loss'], HistoryBuffer)
    assert len(buffers['train/loss'].data[0]) == ITERS_PER_EPOCH
    assert np.isfinite(buffers['train/loss'].mean())
    assert checkpoint['meta']['epoch'] == 1 and checkpoint['meta']['iter'] == ITERS_PER_EPOCH


@pytest.mark.slow  # trains a model for one epoch (the runner_checkpoint fixture)
def test_without_the_allow_list_torch_refuses_the_same_file(runner_checkpoint,
                                                            torch_default_weights_only,
                                                            isolated_safe_globals):
    torch.serialization.clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        torch.load(runner_checkpoint['path'])


@pytest.mark.slow  # trains a model for one epoch (the runner_checkpoint fixture)
def test_allow_list_is_exactly_what_the_checkpoint_needs(runner_checkpoint,
                                                         torch_default_weights_only,
                                                         isolated_safe_globals):
    """Each allowed object is needed by a real checkpoint: without it the load fails."""
    entries = mmengine_checkpoint_globals()
    objects = list(dict.fromkeys(_entry_object(entry) for entry in entries))
    for needed in objects:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(
            [entry for entry in entries if _entry_object(entry) is not needed])
        with pytest.raises(pickle.UnpicklingError):
            torch.load(runner_checkpoint['path'])
    # ... and the non-tensor globals the file names are all on the list.
    allowed_names = {
        entry[1] if isinstance(entry, tuple) else f'{entry.__module__}.{entry.__qualname__}'
        for entry in entries
    }
    torch_builtin = {'collections.OrderedDict', 'collections.Counter', '_codecs.encode'}
    in_file = set(torch.serialization.get_unsafe_globals_in_checkpoint(runner_checkpoint['path']))
    assert in_file - torch_builtin <= allowed_names, in_file - allowed_names


@pytest.mark.slow  # trains a model for one epoch (the runner_checkpoint fixture)
def test_mmengine_load_checkpoint_and_resume(runner_checkpoint, torch_default_weights_only,
                                             tmp_path):
    cfg = _tiny_cfg(runner_checkpoint['data_root'], str(tmp_path / 'resumed'), max_epochs=2)
    cfg.resume = True
    cfg.load_from = runner_checkpoint['path']
    runner = Runner.from_cfg(cfg)
    # mmengine's own loader first (what load_from / tools use) ...
    model = runner.model
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
    state = load_checkpoint(model, runner_checkpoint['path'], map_location='cpu')
    reference = torch.load(runner_checkpoint['path'])['state_dict']
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, reference[name], rtol=0, atol=0, msg=name)
    assert 'message_hub' in state
    # ... then resume: the second epoch continues the first run's iterations and log history.
    runner.train()
    assert runner.epoch == 2 and runner.iter == 2 * ITERS_PER_EPOCH
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(losses) == 2 * ITERS_PER_EPOCH
    assert osp.exists(osp.join(str(tmp_path / 'resumed'), 'epoch_2.pth'))


class ArbitraryObject:
    """Stands for anything a checkpoint could smuggle in."""


def test_other_classes_are_still_refused_with_torch_message(tmp_path, torch_default_weights_only):
    path = str(tmp_path / 'crafted.pth')
    torch.save(dict(state_dict=dict(w=torch.ones(1)), payload=ArbitraryObject()), path)
    with pytest.raises(
            pickle.UnpicklingError, match=r'Unsupported global: GLOBAL .*ArbitraryObject'):
        torch.load(path)


def test_getattr_is_allowed_only_for_history_buffer_statistics(tmp_path,
                                                               torch_default_weights_only):
    # Pickle protocol 2 writes a method of a class as getattr(Class, 'name').
    for payload, refused in ((HistoryBuffer.update, "HistoryBuffer'>, 'update'"),
                             (collections.OrderedDict.fromkeys, "OrderedDict'>, 'fromkeys'")):
        path = str(tmp_path / 'getattr.pth')
        torch.save(dict(f=payload), path)
        with pytest.raises(pickle.UnpicklingError, match=refused):
            torch.load(path)
    path = str(tmp_path / 'statistic.pth')
    torch.save(dict(f=HistoryBuffer.mean), path)
    assert torch.load(path)['f'] is HistoryBuffer.mean


def test_allow_list_call_is_idempotent(isolated_safe_globals):
    before = set(map(str, torch.serialization.get_safe_globals()))
    assert allow_mmengine_checkpoint_globals() is True
    assert set(map(str, torch.serialization.get_safe_globals())) == before
