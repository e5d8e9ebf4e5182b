"""tools/train.py: MMOCR's flags map onto the config as MMOCR's script maps them."""
import os
import os.path as osp

import pytest

from mmpse_ext.engine import device_fallbacks

CONFIG_TEXT = """
default_scope = 'mmocr'
custom_imports = dict(imports=['mmpse_ext'], allow_failed_imports=False)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
auto_scale_lr = dict(base_batch_size=32)
train_cfg = dict(max_epochs=600)
"""


@pytest.fixture
def train_tool(load_tool):
    return load_tool('train')


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / 'tiny_cfg.py'
    path.write_text(CONFIG_TEXT)
    return str(path)


def build(train_tool, *argv):
    return train_tool.build_train_cfg(train_tool.parse_args(list(argv)))


def test_defaults(train_tool, config_file, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    cfg = build(train_tool, config_file)
    assert cfg.launcher == 'none'
    assert cfg.work_dir == osp.join('./work_dirs', 'tiny_cfg')
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert not cfg.get('resume', False)
    assert 'enable' not in cfg.auto_scale_lr


def test_work_dir_cfg_options_launcher(train_tool, config_file):
    cfg = build(train_tool, config_file, '--work-dir', '/tmp/wd', '--launcher', 'pytorch',
                '--cfg-options', 'train_cfg.max_epochs=3', 'optim_wrapper.optimizer.lr=0.01')
    assert cfg.work_dir == '/tmp/wd'
    assert cfg.launcher == 'pytorch'
    assert cfg.train_cfg.max_epochs == 3
    assert cfg.optim_wrapper.optimizer.lr == 0.01


@pytest.mark.parametrize('device', ['cuda', 'cpu'])
def test_amp_turns_on_dynamic_loss_scaling_on_any_device(train_tool, config_file, monkeypatch,
                                                         device):
    monkeypatch.setattr(device_fallbacks, 'get_device', lambda: device)
    cfg = build(train_tool, config_file, '--amp')
    assert cfg.optim_wrapper.type == 'mmpse_ext.DeviceAgnosticAmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'


def test_mmengine_amp_in_a_config_trains_with_amp_on_cpu(train_tool, tmp_path, monkeypatch):
    monkeypatch.setattr(device_fallbacks, 'get_device', lambda: 'cpu')
    messages = []
    monkeypatch.setattr(device_fallbacks, 'print_log', lambda msg, **kw: messages.append(msg))
    path = tmp_path / 'amp_cfg.py'
    path.write_text(
        CONFIG_TEXT.replace("type='OptimWrapper'",
                            "type='AmpOptimWrapper', loss_scale=dict(init_scale=1024.0)"))
    cfg = build(train_tool, str(path))
    assert cfg.optim_wrapper.type == 'mmpse_ext.DeviceAgnosticAmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == dict(init_scale=1024.0)
    assert len(messages) == 1 and "the device is 'cpu'" in messages[0]


def test_resume_auto_and_explicit(train_tool, config_file, tmp_path):
    cfg = build(train_tool, config_file, '--resume')
    assert cfg.resume is True and cfg.load_from is None
    ckpt = tmp_path / 'epoch_3.pth'
    ckpt.write_bytes(b'')
    cfg = build(train_tool, config_file, '--resume', str(ckpt))
    assert cfg.resume is True and cfg.load_from == str(ckpt)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        build(train_tool, config_file, '--resume', str(tmp_path / 'missing.pth'))


def test_auto_scale_lr(train_tool, config_file, tmp_path):
    cfg = build(train_tool, config_file, '--auto-scale-lr')
    assert cfg.auto_scale_lr.enable is True
    no_base = tmp_path / 'no_base.py'
    no_base.write_text(CONFIG_TEXT.replace('auto_scale_lr = dict(base_batch_size=32)', ''))
    with pytest.raises(RuntimeError, match='auto_scale_lr.base_batch_size'):
        build(train_tool, str(no_base), '--auto-scale-lr')


@pytest.mark.parametrize('flag', ['--local_rank', '--local-rank'])
def test_local_rank_sets_env(train_tool, config_file, monkeypatch, flag):
    monkeypatch.setenv('LOCAL_RANK', 'placeholder')  # so monkeypatch restores the variable
    monkeypatch.delenv('LOCAL_RANK')
    args = train_tool.parse_args([config_file, flag, '3'])
    assert args.local_rank == 3
    assert os.environ['LOCAL_RANK'] == '3'
