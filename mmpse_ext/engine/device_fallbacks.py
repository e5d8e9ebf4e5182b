"""Make GPU-first configs (AMP, NCCL) run on a CPU-only machine, with a clear message.

The recipe config trains with AMP and ``dist_cfg.backend='nccl'``, which is what a GPU cluster
wants. On a machine without an accelerator mmengine 0.10.7 fails on both: its
``AmpOptimWrapper`` asserts that CUDA/NPU/MLU/MUSA is available, and its PyTorch launcher calls
``torch.cuda.set_device`` before ``init_process_group`` ("Found no NVIDIA driver"). The tools call
these helpers before building the Runner, so the same config runs everywhere, AMP included
(:class:`~mmpse_ext.engine.amp_optim_wrapper.DeviceAgnosticAmpOptimWrapper`); GPU runs are left
untouched.
"""
import datetime
import logging
import os

import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.logging import print_log

# Devices on which mmengine's AmpOptimWrapper can run (see its __init__ assertion).
AMP_DEVICES = ('cuda', 'npu', 'mlu', 'musa')
# The registered name of our AMP wrapper, which runs on every device.
DEVICE_AGNOSTIC_AMP = 'mmpse_ext.DeviceAgnosticAmpOptimWrapper'


def run_amp_on_any_device(cfg: Config) -> bool:
    """Let a config's mmengine ``AmpOptimWrapper`` train where mmengine refuses to (the CPU).

    The type becomes :data:`DEVICE_AGNOSTIC_AMP`, which takes the same arguments (``loss_scale``,
    ``dtype``, ``use_fsdp``) and autocasts and loss-scales on the current device; a warning says
    so. On the devices mmengine supports nothing changes.

    Args:
        cfg (Config): The full config; ``cfg.optim_wrapper`` is edited in place.

    Returns:
        bool: True if the wrapper type was replaced.
    """
    optim_wrapper = cfg.get('optim_wrapper')
    if not optim_wrapper or optim_wrapper.get('type') != 'AmpOptimWrapper':
        return False
    device = get_device()
    if device in AMP_DEVICES:
        return False
    optim_wrapper['type'] = DEVICE_AGNOSTIC_AMP
    print_log(
        f"optim_wrapper.type='AmpOptimWrapper': mmengine's wrapper runs only on "
        f'{"/".join(AMP_DEVICES)} and the device is {device!r}, so {DEVICE_AGNOSTIC_AMP} trains '
        f'with the same settings instead (autocast and dynamic loss scaling on {device}; '
        f'loss_scale={optim_wrapper.get("loss_scale", "dynamic")!r}, '
        f'dtype={optim_wrapper.get("dtype", "default for the device")!r}).',
        logger='current',
        level=logging.WARNING)
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
        print_log('No accelerator found: using the gloo backend instead of nccl.', logger='current')
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
        backend=backend,
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs)
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
