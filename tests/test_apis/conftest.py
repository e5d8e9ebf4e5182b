"""A small trained PSENet, its ONNX export and the synthetic images it was trained on, shared
by the API tests (built once per session; most of the time goes to training and the export)."""
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'pse_r18_synthetic_demo.py')
EPOCHS = 20

# The CPU demo's model at 8 px base width, trained for EPOCHS epochs on 8 synthetic images. Its
# box threshold is lowered (0.85 → 0.5) so that the half-trained model gives enough instances
# for the backend comparisons to compare something.
PARITY_CONFIG = """
_base_ = [{demo!r}]
data_root = {data_root!r}
model = dict(
    backbone=dict(base_channels=8, stem_channels=8),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=16),
    det_head=dict(in_channels=64, hidden_dim=16, postprocessor=dict(score_threshold=0.5)))
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={epochs}, val_interval={epochs})
param_scheduler = []
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(_delete_=True, type='CheckpointHook', interval={epochs}))
randomness = dict(seed=0)
"""

# The same model at random: no data, no training.
SMALL_CONFIG = """
_base_ = [{demo!r}]
model = dict(
    backbone=dict(base_channels=8, stem_channels=8),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=16),
    det_head=dict(in_channels=64, hidden_dim=16))
"""


def run_python(args, timeout=900, extra_env=None):
    """Run ``python args...`` in the repository, importing mmpse_ext from where this process
    does (the checkout, or the installed copy in the floor job); returns the CompletedProcess."""
    import mmpse_ext
    ours = osp.dirname(osp.dirname(osp.abspath(mmpse_ext.__file__)))
    env = dict(os.environ, **(extra_env or {}))
    env['PYTHONPATH'] = os.pathsep.join([ours] +
                                        ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
    return subprocess.run(
        [sys.executable] + list(args),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)


@pytest.fixture(scope='session')
def python_tool():
    """:func:`run_python` for tests: ``python_tool(['tools/infer.py', ...])``."""
    return run_python


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """8 training and 4 test synthetic scenes (160-320 px), all annotation formats."""
    from mmpse_ext.datasets.synthetic import make_synthetic_icdar2015
    root = str(tmp_path_factory.mktemp('synthetic_api'))
    make_synthetic_icdar2015(
        root, num_train=8, num_test=4, size_range=(160, 320), seed=3, progress=lambda line: None)
    return root


@pytest.fixture(scope='session')
def trained_model(tmp_path_factory, synthetic_root):
    """(config path, checkpoint path) of the small model trained by tools/train.py.

    Trained on one thread: float sums depend on the thread count, so this makes the same model
    on every machine and setting (the reduced-precision tests' word counts are measured on it).
    """
    work_dir = tmp_path_factory.mktemp('api_train')
    config = osp.join(str(work_dir), 'parity_demo.py')
    with open(config, 'w') as f:
        f.write(PARITY_CONFIG.format(demo=DEMO_CONFIG, data_root=synthetic_root, epochs=EPOCHS))
    result = run_python(['tools/train.py', config, '--work-dir',
                         str(work_dir)],
                        extra_env=dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1'))
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    checkpoint = osp.join(str(work_dir), f'epoch_{EPOCHS}.pth')
    assert osp.isfile(checkpoint)
    return config, checkpoint


@pytest.fixture(scope='session')
def exported_model(trained_model, tmp_path_factory):
    """(config, checkpoint, onnx file, tools/model_converters/export_onnx.py's stdout)."""
    config, checkpoint = trained_model
    onnx_file = str(tmp_path_factory.mktemp('api_onnx') / 'parity_demo.onnx')
    result = run_python(['tools/model_converters/export_onnx.py', config, checkpoint, onnx_file])
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return config, checkpoint, onnx_file, result.stdout


@pytest.fixture(scope='session')
def random_small_model(tmp_path_factory):
    """(config path, checkpoint path) of the CPU demo's model at 8 px base width with seeded
    random weights: for tests of what surrounds the network (seconds, no training)."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmocr.registry import MODELS

    import mmpse_ext  # noqa: F401
    folder = tmp_path_factory.mktemp('random_small_model')
    config = osp.join(str(folder), 'small_demo.py')
    with open(config, 'w') as f:
        f.write(SMALL_CONFIG.format(demo=DEMO_CONFIG))
    init_default_scope('mmocr')
    torch.manual_seed(0)
    checkpoint = osp.join(str(folder), 'random.pth')
    torch.save(MODELS.build(Config.fromfile(config).model).state_dict(), checkpoint)
    return config, checkpoint
