"""CPUCapableDDP: stock MMDistributedDataParallel on GPUs, also accepts CPU modules."""
import socket

import pytest
import torch
import torch.distributed as dist
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS as ROOT_MODEL_WRAPPERS
from mmengine.registry import init_default_scope
from torch import nn

from mmpse_ext.engine import CPUCapableDDP
from mmpse_ext.registry import MODEL_WRAPPERS

# The type string configs/_base_/default_runtime.py uses (see the comment there).
CONFIG_TYPE = 'mmpse_ext.engine.CPUCapableDDP'


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def gloo_group(monkeypatch):
    """A one-process gloo group, enough for DDP's constructor and forward."""
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(_free_port()))
    dist.init_process_group('gloo', rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def _net_with_syncbn():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.SyncBatchNorm(4), nn.ReLU())


def test_registered_in_our_child_registry_and_reachable_from_runner():
    assert MODEL_WRAPPERS.get('CPUCapableDDP') is CPUCapableDDP
    # mmengine's Runner.wrap_model calls the ROOT registry's get() on model_wrapper_cfg.type
    assert ROOT_MODEL_WRAPPERS.get(CONFIG_TYPE) is CPUCapableDDP
    assert issubclass(CPUCapableDDP, MMDistributedDataParallel)


def test_stock_wrapper_rejects_cpu_module_with_device_ids(gloo_group):
    """The failure this wrapper exists for (mmengine always passes device_ids=[LOCAL_RANK])."""
    with pytest.raises(ValueError, match='device_ids'):
        MMDistributedDataParallel(module=nn.Linear(2, 2), device_ids=[0])


def test_cpu_module_drops_device_ids_and_reverts_syncbn(gloo_group):
    wrapped = CPUCapableDDP(
        module=_net_with_syncbn(), device_ids=[0], output_device=0, broadcast_buffers=False)
    assert wrapped.device_ids is None
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in wrapped.modules())
    assert isinstance(wrapped.module[1], nn.modules.batchnorm._BatchNorm)
    # a training forward/backward works through DDP on CPU (SyncBN would raise here)
    out = wrapped(torch.randn(2, 3, 8, 8))
    out.sum().backward()
    assert wrapped.module[0].weight.grad is not None
    assert out.shape == (2, 4, 6, 6)


def test_built_the_way_runner_builds_it(gloo_group):
    init_default_scope('mmocr')
    wrapped = ROOT_MODEL_WRAPPERS.build(
        dict(type=CONFIG_TYPE, broadcast_buffers=False, find_unused_parameters=False),
        default_args=dict(module=nn.Linear(3, 2), device_ids=[0]))
    assert type(wrapped) is CPUCapableDDP
    assert wrapped(torch.ones(1, 3)).shape == (1, 2)


@pytest.mark.needs_cuda
def test_gpu_module_keeps_stock_behaviour():
    port = _free_port()
    dist.init_process_group('nccl', init_method=f'tcp://127.0.0.1:{port}', rank=0, world_size=1)
    try:
        wrapped = CPUCapableDDP(
            module=_net_with_syncbn().cuda(), device_ids=[0], broadcast_buffers=False)
        assert wrapped.device_ids == [0]
        assert isinstance(wrapped.module[1], nn.SyncBatchNorm)
    finally:
        dist.destroy_process_group()
