"""Loads the compiled ``mmpse_ext._C`` library (which registers ``torch.ops.pse_ext.*``) and tells
callers which devices its kernels cover.

A build is CPU-only when it was compiled without nvcc (see ``setup.py``), so a CUDA tensor can
reach an op that has no CUDA kernel. The wrappers in :mod:`mmpse_ext.ops.pse` and the
post-processor ask :func:`has_kernel` first and, where it says no, run the CPU kernel on host
copies, warning once (:func:`warn_once`), instead of failing with the dispatcher's "Could not run
... with arguments from the 'CUDA' backend".
"""
import functools
import importlib
import warnings

import torch

_LOADED = False
_WARNED = set()


def load_extension() -> None:
    """Import ``mmpse_ext._C`` once; raise an actionable error if it was not built."""
    global _LOADED
    if _LOADED:
        return
    try:
        importlib.import_module('mmpse_ext._C')
    except ImportError as error:
        raise ImportError(
            'mmpse_ext._C (the pse_ext C++/CUDA op) is not built or does not load against the '
            f'installed torch ({error}). Build it with `pip install --no-build-isolation -e .` '
            'from the repository root, or run `bash .dev_scripts/setup_env.sh`.') from error
    _LOADED = True


def dispatch_key(device_type: str) -> str:
    """The dispatcher's backend key for a device type: ``'cuda'`` → ``'CUDA'``, ``'cpu'`` →
    ``'CPU'`` (ROCm builds also use ``'cuda'``)."""
    return {'privateuseone': 'PrivateUse1'}.get(device_type, device_type.upper())


@functools.lru_cache(maxsize=None)
def has_kernel(op_name: str, device_type: str) -> bool:
    """Whether the loaded extension registered a kernel of ``pse_ext::<op_name>`` for a device.

    Asked once per (op, device type) and cached: registrations happen when ``mmpse_ext._C`` is
    imported and never change afterwards.

    Args:
        op_name (str): the op's name without namespace, e.g. ``'progressive_scale_expansion'``.
        device_type (str): ``torch.device.type``, e.g. ``'cuda'``.

    Returns:
        bool: True if a kernel for that device's dispatch key is registered.
    """
    load_extension()
    return torch._C._dispatch_has_kernel_for_dispatch_key(f'pse_ext::{op_name}',
                                                          dispatch_key(device_type))


def warn_once(key: str, message: str) -> None:
    """``warnings.warn(message, RuntimeWarning)`` the first time ``key`` is seen in this process."""
    if key in _WARNED:
        return
    _WARNED.add(key)
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def needs_host_fallback(op_name: str, device: torch.device) -> bool:
    """True (after one warning per op and device type) if ``device`` is neither the CPU nor a
    device the op has a kernel for, so the caller must run the op on host copies.

    ``meta`` tensors (tracing, ``torch.compile``) use the fake kernels and never fall back.
    """
    if device.type in ('cpu', 'meta') or has_kernel(op_name, device.type):
        return False
    warn_once(
        f'{op_name}:{device.type}',
        f'pse_ext::{op_name} has no {dispatch_key(device.type)} kernel in this build of '
        f'mmpse_ext._C; its inputs on {device} are copied to the host and the CPU kernel runs '
        'instead (slower). Rebuild with nvcc available to get the device kernel; '
        '`python tools/analysis_tools/collect_env.py` shows how the extension was built.')
    return True
