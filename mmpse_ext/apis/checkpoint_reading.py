"""Read a ``.pth`` checkpoint with torch's safe loader, and say in one line why a file is not one.

torch's own errors for a bad file are long and not about the file (a ``.pth`` holding the text
``garbage`` ends in ``Unsupported operand 103``; a pickle that would run code, rightly refused,
in a 20-line message that suggests loading it unsafely). :func:`read_checkpoint` turns each
into a :class:`CheckpointError` naming the file and the reason: empty, truncated, not a
checkpoint, or holding objects the safe loader refuses (with the refused global). It never
retries a refused file with ``weights_only=False``.

On torch >= 2.4 the file is read with ``weights_only=True`` (mmengine's runner checkpoints load,
since importing ``mmpse_ext`` allow-lists what they hold: ``mmpse_ext.engine``). Older torch
has no allow-list to extend, so there :func:`read_checkpoint` hands ``torch.load`` a restricted
pickle module (:class:`RestrictedUnpickler`): the globals torch's own ``weights_only`` loader
admits on that torch plus the same mmengine entries, and nothing else. Either way a file that
would run code is refused, never loaded.
"""
import codecs
import os.path as osp
import pickle
import re
import types
from collections import Counter
from collections.abc import Mapping
from typing import Optional

import torch

#: torch's ways of naming the global its safe loader refused (2.0 .. 2.14).
REFUSED_GLOBAL_PATTERNS = (
    re.compile(r'unsupported GLOBAL ([\w.]+)', re.IGNORECASE),
    re.compile(r'Unsupported global: GLOBAL ([\w.]+)'),
    re.compile(r'unsupported class (\S+)', re.IGNORECASE),
    re.compile(r'unrecognized function (\S+)'),
)
#: torch's and pickle's words for data that ends early.
TRUNCATED = re.compile(r'Ran out of input|unexpected EOF|truncated', re.IGNORECASE)
ZIP_SIGNATURE = b'PK\x03\x04'
PICKLE_PROTOCOL_OPCODE = b'\x80'


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be used; the message is one line naming file and reason."""


def safe_loading() -> bool:
    """True when this torch reads checkpoints with ``weights_only=True`` here (torch >= 2.4)."""
    return hasattr(torch.serialization, 'add_safe_globals')


def _allowed_globals() -> dict:
    """``'module.name'`` → object for :class:`RestrictedUnpickler`: torch's own weights-only
    allow-list on this torch (tensor and storage rebuilders, ``OrderedDict``, ...) plus what
    mmengine runner checkpoints hold (:func:`mmengine_checkpoint_globals`)."""
    from torch._weights_only_unpickler import _get_allowed_globals

    from mmpse_ext.engine import mmengine_checkpoint_globals
    allowed = dict(_get_allowed_globals())
    for entry in mmengine_checkpoint_globals():
        obj, name = entry if isinstance(
            entry, tuple) else (entry, f'{entry.__module__}.{entry.__qualname__}')
        allowed[name] = obj
    # protocol 2 names builtins ``__builtin__``; torch's wrapper maps modules, not this one
    allowed['__builtin__.getattr'] = allowed['builtins.getattr']
    # Plain-data globals that later torch's safe loader admits and torch 2.0's list lacks;
    # `_codecs.encode` rebuilds the bytes inside the numpy arrays of a checkpoint written on
    # torch 2.0 by MMOCR's tools/train.py (the floor job reads one).
    for name, obj in (('_codecs.encode', codecs.encode), ('collections.Counter', Counter),
                      ('builtins.bytearray', bytearray), ('builtins.set', set), ('builtins.complex',
                                                                                 complex)):
        allowed.setdefault(name, obj)
    return allowed


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only allow-listed globals (torch < 2.4's safe load).

    ``torch.load`` subclasses ``pickle_module.Unpickler`` and maps storage types itself; every
    other global goes through :meth:`find_class`, which refuses what is not allow-listed with
    the wording of torch's own safe loader (so :func:`load_failure_reason` names it).
    """
    allowed = None

    def find_class(self, module: str, name: str):
        if RestrictedUnpickler.allowed is None:
            RestrictedUnpickler.allowed = _allowed_globals()
        obj = RestrictedUnpickler.allowed.get(f'{module}.{name}')
        if obj is None:
            raise pickle.UnpicklingError(f'Unsupported global: GLOBAL {module}.{name}')
        return obj


#: The ``pickle_module`` handed to ``torch.load`` on torch < 2.4.
restricted_pickle = types.SimpleNamespace(
    Unpickler=RestrictedUnpickler,
    load=lambda file, **kwargs: RestrictedUnpickler(file, **kwargs).load(),
    __name__='mmpse_ext.restricted_pickle')


def error_summary(error: BaseException) -> str:
    """The error's type and first line (after torch's safe-loader preamble, if any)."""
    message = str(error)
    marker = 'WeightsUnpickler error:'
    if marker in message:
        message = message[message.index(marker) + len(marker):]
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return f'{type(error).__name__}: {lines[0]}' if lines else type(error).__name__


def _head(path: str, size: int = 16) -> bytes:
    with open(path, 'rb') as f:
        return f.read(size)


def load_failure_reason(path: str, error: BaseException) -> str:
    """Why ``torch.load`` failed on ``path``, in a few words (``error`` is what it raised)."""
    message = str(error)
    for pattern in REFUSED_GLOBAL_PATTERNS:
        match = pattern.search(message)
        if match:
            loader = ("torch's safe loader (weights_only=True)"
                      if safe_loading() else 'the restricted loader (torch < 2.4)')
            return (f'holds objects that {loader} refuses, '
                    f'starting with {match.group(1)}; not loaded, since unpickling it could run '
                    'code')
    head = _head(path)
    if isinstance(error, EOFError) or TRUNCATED.search(message):
        return 'is truncated (the data ends early)'
    if head.startswith(ZIP_SIGNATURE):
        if 'central directory' in message or 'not a ZIP archive' in message:
            return 'is truncated or corrupt (its zip archive is incomplete)'
        return f'is a zip archive but not a PyTorch checkpoint ({error_summary(error)})'
    if head.startswith(PICKLE_PROTOCOL_OPCODE):
        return ('is a pickle that torch.load cannot read as a checkpoint, not a file written by '
                f'torch.save ({error_summary(error)})')
    return (f'is not a PyTorch checkpoint (neither a zip archive nor a pickle; it starts with '
            f'{head[:8]!r})')


def read_checkpoint(path: str) -> dict:
    """Load a checkpoint's state dict on the CPU, without running code from the file.

    Args:
        path (str): a ``.pth`` file: a Runner checkpoint (``{'state_dict': ..., 'meta': ...}``)
            or a bare state dict (e.g. converted Paddle weights).

    Returns:
        dict: the state dict (parameter name → tensor), keys as stored.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: the file is empty, truncated, not a checkpoint, holds objects the safe
            loader refuses, or holds no tensors; the message is one line.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} does not exist')
    try:
        with open(path, 'rb'):
            pass
    except OSError as error:
        raise CheckpointError(f'checkpoint {path!r} cannot be opened '
                              f'({error.strerror or error})') from None
    if osp.getsize(path) == 0:
        raise CheckpointError(f'checkpoint {path!r} is an empty file')
    import mmpse_ext.engine  # noqa: F401  (allow-lists what mmengine checkpoints hold)
    kwargs = dict(weights_only=True) if safe_loading() else dict(pickle_module=restricted_pickle)
    try:
        loaded = torch.load(path, map_location='cpu', **kwargs)
    except Exception as error:  # torch raises many types; each is classified, none retried
        raise CheckpointError(f'checkpoint {path!r} {load_failure_reason(path, error)}') from None
    reason = _not_a_state_dict(loaded)
    if reason is not None:
        raise CheckpointError(f'checkpoint {path!r} is not a checkpoint: {reason}')
    return loaded.get('state_dict', loaded)


def _not_a_state_dict(loaded) -> Optional[str]:
    """Why ``loaded`` (what ``torch.load`` returned) is not a checkpoint, or None if it is."""
    if not isinstance(loaded, Mapping):
        return f'it holds a {type(loaded).__name__}, not a dict of tensors'
    state = loaded.get('state_dict', loaded)
    if not isinstance(state, Mapping):
        return f"its 'state_dict' is a {type(state).__name__}, not a dict of tensors"
    if not any(isinstance(value, torch.Tensor) for value in state.values()):
        return 'it holds a dict without tensors' + (
            f" (keys: {', '.join(map(str, list(state)[:5]))})" if state else ' (empty)')
    return None
