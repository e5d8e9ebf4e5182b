"""Let torch's safe loader (``weights_only=True``) read the checkpoints mmengine 0.10.7 writes.

mmengine calls ``torch.load(filename, map_location=...)``, i.e. torch's default ``weights_only``,
which is True since torch 2.6. Besides tensors, a runner checkpoint pickles the message hub: its
``HistoryBuffer`` objects (numpy arrays of the logged values and counts) and numpy scalars (the
``eta`` runtime entry), so ``--resume``, ``load_from``, MMOCR's ``tools/test.py`` and its
inferencers stop with "Unsupported global ... HistoryBuffer" (open-mmlab/mmengine#1655).

:func:`allow_mmengine_checkpoint_globals` (run when ``mmpse_ext`` is imported, which
``custom_imports`` does) allow-lists exactly what such a checkpoint holds, measured on
checkpoints written by mmengine 0.10.7 runs (docs/migrating_from_mmocr.md, "Checkpoints"):
``HistoryBuffer``, numpy's array/scalar rebuilders, ``numpy.dtype`` and the float64/int64 dtype
classes. Anything else is still refused with torch's own message.

One entry needs care: a buffer's state holds its statistics methods (``HistoryBuffer.min``,
``max``, ``current``, ``mean``), which pickle protocol 2 writes as ``getattr(HistoryBuffer,
'min')``. Allow-listing ``builtins.getattr`` itself would let a file fetch any attribute of any
allowed object, so the name ``builtins.getattr`` is bound to :func:`history_buffer_statistic`
instead, which returns those four functions and refuses every other ``getattr`` call.
"""
import pickle
from typing import Any, Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

#: The statistics methods every ``HistoryBuffer`` registers for itself (its ``_statistics_methods``
#: defaults); a checkpoint stores them by ``getattr``.
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')

#: The pickled name of the ``getattr`` calls above (protocol 2 writes ``__builtin__ getattr``,
#: which torch's loader maps to this).
GETATTR_NAME = 'builtins.getattr'

SafeGlobal = Union[Callable, Tuple[Callable, str]]


def history_buffer_statistic(owner: Any, name: str) -> Callable:
    """Stand-in for ``getattr`` while torch's safe loader reads a checkpoint.

    Args:
        owner: the object the pickle asks an attribute of.
        name (str): the attribute name.

    Returns:
        Callable: ``HistoryBuffer.<name>`` for one of :data:`HISTORY_BUFFER_STATISTICS`.

    Raises:
        pickle.UnpicklingError: for every other owner or name (torch reports it as a failed
            ``weights_only`` load).
    """
    if owner is HistoryBuffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'weights_only load refused getattr({owner!r}, {name!r}): mmpse_ext allows getattr only '
        f'for HistoryBuffer.{{{", ".join(HISTORY_BUFFER_STATISTICS)}}} (mmengine checkpoints)')


def _numpy_array_rebuilders() -> List[SafeGlobal]:
    """numpy's ``_reconstruct`` and ``scalar`` under the names numpy 1 and numpy 2 pickle them."""
    from numpy._core import multiarray  # numpy >= 1.26 and 2.x, without deprecation warnings
    entries: List[SafeGlobal] = []
    for function in (multiarray._reconstruct, multiarray.scalar):
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            entries.append((function, f'{module}.{function.__name__}'))
    return entries


def mmengine_checkpoint_globals() -> List[SafeGlobal]:
    """Every non-tensor global an mmengine 0.10.7 runner checkpoint pickles.

    Returns:
        list: entries for ``torch.serialization.add_safe_globals`` (classes, or
        ``(callable, pickled name)`` pairs).
    """
    return [
        HistoryBuffer,
        (history_buffer_statistic, GETATTR_NAME),
        np.ndarray,
        np.dtype,
        type(np.dtype(np.float64)),  # numpy.dtypes.Float64DType: the logged values
        type(np.dtype(np.int64)),  # numpy.dtypes.Int64DType: the counts
        *_numpy_array_rebuilders(),
    ]


def allow_mmengine_checkpoint_globals() -> bool:
    """Allow-list :func:`mmengine_checkpoint_globals` for torch's ``weights_only`` loader.

    Idempotent; process-wide, like every ``add_safe_globals`` call. The rest of torch's
    protection stays on: other classes, functions and ``getattr`` targets are refused.

    Returns:
        bool: False on a torch without ``add_safe_globals`` (before 2.4, whose ``torch.load``
        does not default to ``weights_only=True`` anyway), True otherwise.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return False
    add_safe_globals(mmengine_checkpoint_globals())
    return True
