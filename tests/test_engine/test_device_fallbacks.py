"""AMP and NCCL on CPU-only machines (mmpse_ext.engine.device_fallbacks)."""
import socket

import pytest
import torch.distributed as dist
from mmengine.config import Config

from mmpse_ext.engine import device_fallbacks, init_cpu_distributed, run_amp_on_any_device


def _amp_cfg():
    return Config(
        dict(
            optim_wrapper=dict(
                type='AmpOptimWrapper',
                loss_scale=dict(init_scale=1024.0),
                dtype='float16',
                optimizer=dict(type='Adam', lr=1e-4))))


def test_mmengine_amp_becomes_the_device_agnostic_wrapper_on_cpu(monkeypatch):
    monkeypatch.setattr(device_fallbacks, 'get_device', lambda: 'cpu')
    messages = []
    monkeypatch.setattr(device_fallbacks, 'print_log', lambda msg, **kw: messages.append(msg))
    cfg = _amp_cfg()
    assert run_amp_on_any_device(cfg) is True
    assert cfg.optim_wrapper.to_dict() == dict(
        type='mmpse_ext.DeviceAgnosticAmpOptimWrapper',
        loss_scale=dict(init_scale=1024.0),
        dtype='float16',
        optimizer=dict(type='Adam', lr=1e-4))  # AMP settings kept, not fp32
    assert len(messages) == 1 and "the device is 'cpu'" in messages[0]
    assert "loss_scale={'init_scale': 1024.0}" in messages[0]


@pytest.mark.parametrize('device', ['cuda', 'npu'])
def test_amp_kept_on_accelerators(monkeypatch, device):
    monkeypatch.setattr(device_fallbacks, 'get_device', lambda: device)
    cfg = _amp_cfg()
    assert run_amp_on_any_device(cfg) is False
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == dict(init_scale=1024.0)


def test_non_amp_and_missing_optim_wrapper_untouched(monkeypatch):
    monkeypatch.setattr(device_fallbacks, 'get_device', lambda: 'cpu')
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD'))))
    assert run_amp_on_any_device(cfg) is False
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert run_amp_on_any_device(Config(dict())) is False
    ours = Config(dict(optim_wrapper=dict(type='mmpse_ext.DeviceAgnosticAmpOptimWrapper')))
    assert run_amp_on_any_device(ours) is False


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def torchrun_env(monkeypatch):
    for name, value in dict(
            RANK='0',
            LOCAL_RANK='0',
            WORLD_SIZE='1',
            MASTER_ADDR='127.0.0.1',
            MASTER_PORT=str(_free_port())).items():
        monkeypatch.setenv(name, value)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


def test_pytorch_launcher_on_cpu_uses_gloo(monkeypatch, torchrun_env):
    monkeypatch.setattr(device_fallbacks, 'get_device', lambda: 'cpu')
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=120))))
    assert init_cpu_distributed('pytorch', cfg) is True
    assert dist.is_initialized()
    assert dist.get_backend() == 'gloo'
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    # a second call (e.g. the Runner's own setup) leaves the existing group alone
    assert init_cpu_distributed('pytorch', cfg) is False


@pytest.mark.parametrize('launcher, device', [('none', 'cpu'), ('pytorch', 'cuda')])
def test_no_op_without_launcher_or_with_accelerator(monkeypatch, torchrun_env, launcher, device):
    monkeypatch.setattr(device_fallbacks, 'get_device', lambda: device)
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert init_cpu_distributed(launcher, cfg) is False
    assert not dist.is_initialized()
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'


def test_missing_torchrun_variable_is_a_clear_error(monkeypatch, torchrun_env):
    monkeypatch.setattr(device_fallbacks, 'get_device', lambda: 'cpu')
    monkeypatch.delenv('MASTER_PORT')
    with pytest.raises(RuntimeError, match='MASTER_PORT'):
        init_cpu_distributed('pytorch', Config(dict()))


def test_shutdown_distributed_leaves_the_process_group(tmp_path):
    import torch.distributed as torch_dist

    from mmpse_ext.engine import shutdown_distributed
    shutdown_distributed()  # no process group: nothing to do, no error
    torch_dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path / "rendezvous"}', rank=0, world_size=1)
    assert torch_dist.is_initialized()
    shutdown_distributed()
    assert not torch_dist.is_initialized()
