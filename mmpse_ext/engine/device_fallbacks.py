"""Make GPU-first configs (AMP, NCCL) run on a CPU-only machine, with a clear message.

The recipe config trains with ``AmpOptimWrapper`` and ``dist_cfg.backend='nccl'``, which is what a
GPU cluster wants. On a machine without an accelerator mmengine 0.10.7 fails on both:
``AmpOptimWrapper`` asserts that CUDA/NPU/MLU/MUSA is available, and its PyTorch launcher calls
``torch.cuda.set_device`` before ``init_process_group`` ("Found no NVIDIA driver"). The tools call
these helpers before building the Runner, so the same config runs everywhere; GPU runs are left
untouched.
"""
import datetime
import os

import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.logging import print_log

# Devices on which mmengine's AmpOptimWrapper can run (see its __init__ assertion).
AMP_DEVICES = ('cuda', 'npu', 'mlu', 'musa')
# AmpOptimWrapper-only arguments that plain OptimWrapper would reject.
AMP_ONLY_KEYS = ('loss_scale', 'dtype', 'use_fsdp')


def disable_amp_without_accelerator(cfg: Config) -> bool:
    """Turn ``AmpOptimWrapper`` into fp32 ``OptimWrapper`` when no AMP-capable device exists.

    Args:
        cfg (Config): The full config; ``cfg.optim_wrapper`` is edited in place.

    Returns:
        bool: True if AMP was switched off.
    """
    optim_wrapper = cfg.get('optim_wrapper')
    if not optim_wrapper or optim_wrapper.get('type') != 'AmpOptimWrapper':
        return False
    device = get_device()
    if device in AMP_DEVICES:
        return False
    dropped = {key: optim_wrapper.pop(key) for key in AMP_ONLY_KEYS if key in optim_wrapper}
    optim_wrapper['type'] = 'OptimWrapper'
    print_log(
        f'AMP requested (optim_wrapper.type=AmpOptimWrapper) but the device is {device!r}; '
        f'mmengine supports AMP only on {"/".join(AMP_DEVICES)}. Training in fp32 with '
        f'OptimWrapper instead (dropped {dropped}).', logger='current', level=30)
    return True


def init_cpu_distributed(launcher: str, cfg: Config) -> bool:
    """Initialise torch.distributed with gloo for a CPU-only ``--launcher pytorch`` run.

    The Runner skips its own ``init_dist`` when a process group already exists, so initialising
    here avoids mmengine's ``torch.cuda.set_device`` call. ``env_cfg.dist_cfg.backend='nccl'`` (the
    GPU default) is replaced by gloo, the only torch backend that runs collectives on CPU tensors
    here; ``dist_cfg.timeout`` (seconds) is kept. Does nothing on machines with an accelerator,
    for other launchers, or if a process group is already initialised.

    Args:
        launcher (str): The ``--launcher`` value ('none', 'pytorch', 'slurm', 'mpi').
        cfg (Config): The full config; ``cfg.env_cfg.dist_cfg.backend`` is updated to what was used.

    Returns:
        bool: True if this function initialised the process group.
    """
    if launcher != 'pytorch' or get_device() != 'cpu' or torch_dist.is_initialized():
        return False
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    backend = dist_cfg.get('backend', 'nccl')
    if backend == 'nccl':
        print_log('No accelerator found: using the gloo backend instead of nccl.',
                  logger='current')
        backend = 'gloo'
    dist_cfg['backend'] = backend
    kwargs = {}
    if dist_cfg.get('timeout') is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=dist_cfg['timeout'])
    for name in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        if name not in os.environ:
            raise RuntimeError(
                f'--launcher pytorch needs the environment variable {name} (set by torchrun); '
                'start distributed runs with tools/dist_train.sh or torchrun.')
    torch_dist.init_process_group(
        backend=backend, rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']), **kwargs)
    return True


def shutdown_distributed() -> None:
    """Leave the process group cleanly at the end of a distributed run.

    Without this, a rank that finishes first can exit while gloo's background threads still
    serve the other rank, and the C++ runtime aborts it at interpreter teardown ("terminate
    called without an active exception", exit code -6; seen once in 2-process CPU tests).
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
