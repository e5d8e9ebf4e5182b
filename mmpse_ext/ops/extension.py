"""Loads the compiled ``mmpse_ext._C`` library (which registers ``torch.ops.pse_ext.*``) and tells
callers which devices its kernels cover.

Without the library (a source checkout that was never built) everything else of the package still
imports and registers; calling an op raises an ``ImportError`` naming the build command. A library
built against another torch than the installed one is never loaded: importing the package fails
with one line naming the command that rebuilds it (the build's torch version is recorded by
``setup.py`` in ``mmpse_ext/ops/_build_info.py``).

A build is CPU-only when it was compiled without nvcc (see ``setup.py``), so a CUDA tensor can
reach an op that has no CUDA kernel. The wrappers in :mod:`mmpse_ext.ops.pse` and the
post-processor ask :func:`has_kernel` first and, where it says no, run the CPU kernel on host
copies, warning once (:func:`warn_once`), instead of failing with the dispatcher's "Could not run
... with arguments from the 'CUDA' backend".
"""
import functools
import importlib
import importlib.util
import warnings
from typing import Optional

import torch

#: The command that builds ``mmpse_ext._C`` against the torch of the current environment without
#: touching any installed package (README, "Using mmpse_ext in an existing MMOCR project").
BUILD_COMMAND = 'pip install --no-build-isolation --no-deps .'

_STATE = {}  # 'loaded': bool, 'error': the one-line reason when not loaded
_WARNED = set()


class ExtensionMismatchError(ImportError):
    """``mmpse_ext._C`` exists but was built for another torch, or does not load."""


def _built_torch_version() -> Optional[str]:
    try:
        from ._build_info import BUILD_INFO
    except ImportError:
        return None
    return BUILD_INFO.get('torch_version')


def _extension_exists() -> bool:
    try:
        return importlib.util.find_spec('mmpse_ext._C') is not None
    except (ImportError, ValueError):
        return False


def _try_import() -> None:
    """Fill ``_STATE``; raise :class:`ExtensionMismatchError` for a present but unusable build."""
    built = _built_torch_version()
    if built is not None and built != torch.__version__ and _extension_exists():
        # Never dlopen a library built against another torch: its symbols may not resolve, or
        # resolve to different code.
        raise ExtensionMismatchError(
            f'mmpse_ext._C was built against torch {built} but torch {torch.__version__} is '
            f'installed: rebuild it here with `{BUILD_COMMAND}` (add -e for an editable '
            'checkout) from the mmpse_ext repository')
    try:
        importlib.import_module('mmpse_ext._C')
    except ModuleNotFoundError as error:
        if error.name not in ('mmpse_ext._C', 'mmpse_ext'):
            raise ExtensionMismatchError(f'mmpse_ext._C does not load ({error}): rebuild it '
                                         f'with `{BUILD_COMMAND}`') from error
        message = ('mmpse_ext._C (the pse_ext C++/CUDA op) is not built. Build it against the '
                   f'installed torch ({torch.__version__}) with `{BUILD_COMMAND}` (add -e for an '
                   'editable checkout) from the repository root, or run '
                   '`bash .dev_scripts/setup_env.sh`.')
        _STATE.update(loaded=False, error=message)
        return
    except (ImportError, OSError) as error:
        raise ExtensionMismatchError(
            f'mmpse_ext._C does not load against the installed torch {torch.__version__} '
            f'({error}): rebuild it with `{BUILD_COMMAND}` from the repository root') from error
    _STATE.update(loaded=True, error=None)


def extension_available() -> bool:
    """Import ``mmpse_ext._C`` once; whether it is loaded.

    A missing extension is not an error here (everything but the op works without it); one that
    exists but was built against another torch, or fails to load, raises
    :class:`ExtensionMismatchError` with the command that rebuilds it.
    """
    if not _STATE:
        _try_import()
    return _STATE['loaded']


def load_extension() -> None:
    """Import ``mmpse_ext._C`` once; raise an actionable ``ImportError`` if it was not built."""
    if not extension_available():
        raise ImportError(_STATE['error'])


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
