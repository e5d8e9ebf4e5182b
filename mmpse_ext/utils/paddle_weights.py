"""PaddleOCR ``.pdparams`` (PSENet recipe) → mmengine checkpoint of our model.

Two sources are supported: PaddleClas' ImageNet ``ResNet50_vd_ssld_pretrained`` (backbone only;
its classifier ``out.*`` is dropped; output keys have no prefix, for the backbone's
``init_cfg=dict(type='Pretrained', ...)``) and a trained PaddleOCR ``det_r50_vd_pse`` model
(``backbone.*``, ``neck.*``, ``head.*`` → ``backbone.*``, ``neck.*``, ``det_head.*``, for
``load_from``). The file format, the name correspondence and what a conversion cannot carry
over are in ``docs/paddle_weights.md``.

A ``.pdparams`` file is a pickle, and unpickling an untrusted file can run arbitrary code.
:func:`load_pdparams` therefore unpickles with an allow-list: numpy arrays, dtypes and scalars,
plain containers and ``_codecs.encode`` restricted to latin-1 (how protocol 2 stores bytes).
That is everything ``paddle.save`` writes for a state dict; any other global is refused before
it is imported or called.
"""
import os
import pickle
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch

#: Non-tensor bookkeeping entry that paddle.save adds to every .pdparams file.
PADDLE_STRUCTURE_KEY = 'StructuredToParameterName@@'

# Globals a pickled state dict of numpy arrays refers to (numpy 1.x spells the private module
# ``numpy.core``, numpy 2.x ``numpy._core``; either version reads both).
_ALLOWED_GLOBALS = frozenset(
    [('numpy', 'ndarray'), ('numpy', 'dtype'), ('collections', 'OrderedDict')] +
    [(f'{package}.multiarray', name) for package in ('numpy.core', 'numpy._core')
     for name in ('_reconstruct', 'scalar')] + [(f'{package}.numeric', '_frombuffer')
                                                for package in ('numpy.core', 'numpy._core')] +
    [(module, name) for module in ('builtins', '__builtin__')
     for name in ('bool', 'int', 'float', 'complex', 'str', 'bytes', 'bytearray', 'tuple', 'list',
                  'dict', 'set', 'frozenset', 'slice')])

_BN_SUFFIX = {
    'weight': 'weight',
    'bias': 'bias',
    '_mean': 'running_mean',
    '_variance': 'running_var'
}
_NECK_LATERAL = {'toplayer_': 3, 'latlayer1_': 2, 'latlayer2_': 1, 'latlayer3_': 0}
_NECK_SMOOTH = {'smooth1_': 2, 'smooth2_': 1, 'smooth3_': 0}

_STEM = re.compile(r'conv1_([123])\.(_conv\.weight|_batch_norm\.(\w+))$')
_BLOCK = re.compile(r'bb_(\d+)_(\d+)\.(conv[012]|short)\.(_conv\.weight|_batch_norm\.(\w+))$')
_NECK = re.compile(r'(\w+_)\.(conv\.weight|bn\.(\w+))$')
_HEAD = re.compile(r'(conv1|bn1|conv2)\.(\w+)$')


class PdparamsError(ValueError):
    """A file that cannot be read as a ``.pdparams`` state dict; the message is one line that
    starts with the file's path."""


class ConversionError(RuntimeError):
    """The source does not fill the target model, or holds tensors we cannot place.

    Attributes:
        report (ConversionReport, optional): the complete accounting (every missing target,
            unused source and incompatible tensor), when the conversion got that far.
    """

    def __init__(self, message: str, report: Optional['ConversionReport'] = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class ConversionReport:
    """What a conversion did; every source key and every target key appears exactly once."""
    filled: List[Tuple[str, str]] = field(default_factory=list)  # (target, source)
    synthesised: List[str] = field(default_factory=list)  # BN num_batches_tracked = 0
    missing: List[str] = field(default_factory=list)  # targets without a source
    dropped: List[Tuple[str, str]] = field(default_factory=list)  # (source, why)
    unused: List[str] = field(default_factory=list)  # sources with no place in the target
    shape_mismatch: List[str] = field(default_factory=list)
    wrong_dtype: List[str] = field(default_factory=list)  # sources that are not float arrays

    def summary(self) -> str:
        """Human-readable multi-line summary that names every problem entry."""
        lines = [
            f'filled targets: {len(self.filled)}',
            f'synthesised targets (BN num_batches_tracked = 0): {len(self.synthesised)}',
            f'missing targets: {len(self.missing)}',
            f'used sources: {len(self.filled)}',
            f'dropped sources: {len(self.dropped)}',
            f'unused sources: {len(self.unused)}',
            f'shape mismatches: {len(self.shape_mismatch)}',
            f'non-float sources: {len(self.wrong_dtype)}',
        ]
        for title, items in (('missing target', self.missing), ('unused source', self.unused),
                             ('shape mismatch', self.shape_mismatch), ('non-float source',
                                                                       self.wrong_dtype)):
            lines += [f'  {title}: {item}' for item in items]
        lines += [f'  dropped source: {source} ({why})' for source, why in self.dropped]
        return '\n'.join(lines)


class _ForbiddenGlobal(pickle.UnpicklingError):
    """The pickle refers to a global outside the allow-list."""


def _latin1_encode(text: str, encoding: str = 'latin1') -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it (bytes written as latin-1 text) only."""
    if encoding not in ('latin1', 'latin-1'):
        raise _ForbiddenGlobal(f'_codecs.encode with the codec {encoding!r}')
    return text.encode('latin-1')


class _StateDictUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals a pickled dict of numpy arrays needs."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ('_codecs', 'encode'):
            return _latin1_encode
        if (module, name) not in _ALLOWED_GLOBALS:
            raise _ForbiddenGlobal(f'{module}.{name}')
        return super().find_class(module, name)


def _one_line(text: Any) -> str:
    return ' '.join(str(text).split())


def _unpickle(path: str) -> Any:
    """The object pickled in ``path``, or a :class:`PdparamsError` that says what is wrong."""
    try:
        size = os.path.getsize(path)
        with open(path, 'rb') as f:
            head = f.read(2)
            if size == 0:
                raise PdparamsError(f'{path}: empty file (0 bytes), expected a .pdparams pickle')
            if head == b'PK':
                raise PdparamsError(f'{path}: looks like a zip archive (a PyTorch '
                                    'checkpoint?), not a .pdparams pickle')
            # paddle.save writes pickle protocol 2-4, which opens with PROTO (0x80) <version>.
            if head[:1] != b'\x80' or (len(head) == 2 and not 2 <= head[1] <= 5):
                raise PdparamsError(f'{path}: not a .pdparams file: it does not start like a '
                                    f'pickle of protocol 2-5 (first bytes {head!r})')
            f.seek(0)
            try:
                return _StateDictUnpickler(f, encoding='latin1').load()
            except _ForbiddenGlobal as error:
                raise PdparamsError(
                    f'{path}: refused: the pickle refers to {error}, which a .pdparams of numpy '
                    'arrays never does (unpickling it could run code)') from None
            except EOFError as error:
                raise PdparamsError(f'{path}: truncated ({size} bytes): the pickle ends '
                                    f'early ({_one_line(error)})') from None
            except Exception as error:  # corrupt data raises many types (pickle, numpy)
                if 'truncated' in str(error):
                    raise PdparamsError(f'{path}: truncated ({size} bytes): the pickle ends '
                                        f'early ({_one_line(error)})') from None
                raise PdparamsError(f'{path}: corrupt pickle ({type(error).__name__}: '
                                    f'{_one_line(error)})') from None
    except FileNotFoundError:
        raise PdparamsError(f'{path}: no such file') from None
    except IsADirectoryError:
        raise PdparamsError(f'{path}: is a directory, expected a .pdparams file') from None
    except OSError as error:
        raise PdparamsError(f'{path}: cannot read ({error.strerror or error})') from None


def load_pdparams(path: str) -> Dict[str, np.ndarray]:
    """Read a ``.pdparams`` file (a pickle of name → ndarray) without Paddle, safely.

    Only the globals listed in the module docstring are resolved, so a crafted file cannot run
    code while it is read.

    Args:
        path (str): the file.

    Returns:
        dict[str, np.ndarray]: every entry except the non-tensor ``StructuredToParameterName@@``.

    Raises:
        PdparamsError: the file is missing, unreadable, empty, truncated, not a pickle, refers
            to a global outside the allow-list, or is not a non-empty dict of str → ndarray;
            the message is one line that starts with ``path``.
    """
    content = _unpickle(path)
    if not isinstance(content, dict):
        raise PdparamsError(f'{path}: expected a pickled dict of name -> ndarray, got '
                            f'{type(content).__name__}')
    arrays = {}
    for name, value in content.items():
        if name == PADDLE_STRUCTURE_KEY:
            continue
        if not isinstance(name, str):
            raise PdparamsError(f'{path}: entry {name!r} has a name of type '
                                f'{type(name).__name__}, expected str')
        if not isinstance(value, np.ndarray):
            hint = ' (a nested checkpoint?)' if isinstance(value, dict) else ''
            raise PdparamsError(f'{path}: entry {name!r} is of type {type(value).__name__}, '
                                f'not an array{hint}')
        arrays[name] = value
    if not arrays:
        raise PdparamsError(f'{path}: holds no arrays')
    return arrays


def detect_kind(names: List[str]) -> str:
    """``'detector'`` when the file has neck/head tensors, else ``'backbone'``."""
    if any(name.startswith(('neck.', 'head.')) for name in names):
        return 'detector'
    return 'backbone'


def _map_backbone(name: str) -> Optional[str]:
    """Paddle ResNet_vd name (no prefix) → mmdet ResNetV1d name, or None."""
    match = _STEM.match(name)
    if match:
        index = int(match.group(1)) - 1
        if match.group(3) is None:
            return f'stem.{3 * index}.weight'
        suffix = _BN_SUFFIX.get(match.group(3))
        return f'stem.{3 * index + 1}.{suffix}' if suffix else None
    match = _BLOCK.match(name)
    if match:
        stage, block, layer = int(match.group(1)), int(match.group(2)), match.group(3)
        prefix = f'layer{stage + 1}.{block}.'
        if layer == 'short':
            conv, norm = prefix + 'downsample.1', prefix + 'downsample.2'
        else:
            number = int(layer[-1]) + 1
            conv, norm = f'{prefix}conv{number}', f'{prefix}bn{number}'
        if match.group(5) is None:
            return conv + '.weight'
        suffix = _BN_SUFFIX.get(match.group(5))
        return f'{norm}.{suffix}' if suffix else None
    return None


def _map_neck(name: str) -> Optional[str]:
    """Paddle FPN name (no prefix) → PSEFPN name, or None."""
    match = _NECK.match(name)
    if not match:
        return None
    layer = match.group(1)
    if layer in _NECK_LATERAL:
        module = f'lateral_convs.{_NECK_LATERAL[layer]}'
    elif layer in _NECK_SMOOTH:
        module = f'smooth_convs.{_NECK_SMOOTH[layer]}'
    else:
        return None
    if match.group(3) is None:
        return f'{module}.conv.weight'
    suffix = _BN_SUFFIX.get(match.group(3))
    return f'{module}.bn.{suffix}' if suffix else None


def _map_head(name: str) -> Optional[str]:
    """Paddle PSEHead name (no prefix) → our PSEHead name, or None."""
    match = _HEAD.match(name)
    if not match:
        return None
    layer, param = match.groups()
    if layer == 'bn1':
        suffix = _BN_SUFFIX.get(param)
        return f'fuse_bn.{suffix}' if suffix else None
    if param not in ('weight', 'bias'):
        return None
    return f'fuse_conv.{param}' if layer == 'conv1' else f'out_conv.{param}'


def map_paddle_name(name: str, kind: str) -> Tuple[Optional[str], Optional[str]]:
    """Target name of one Paddle tensor.

    Args:
        name (str): Paddle state-dict name.
        kind (str): ``'backbone'`` (ImageNet file) or ``'detector'`` (det_r50_vd_pse file).

    Returns:
        tuple: ``(target, None)`` when the tensor has a place, ``(None, reason)`` when it is
        dropped on purpose, ``(None, None)`` when it is unknown.
    """
    if kind == 'backbone':
        bare = name[len('backbone.'):] if name.startswith('backbone.') else name
        if bare.startswith('out.'):
            return None, 'ImageNet classifier, not part of the detector'
        return _map_backbone(bare), None
    if kind != 'detector':
        raise ValueError(f"kind must be 'backbone' or 'detector', got {kind!r}")
    for prefix, mapper, target_prefix in (('backbone.', _map_backbone, 'backbone.'),
                                          ('neck.', _map_neck, 'neck.'), ('head.', _map_head,
                                                                          'det_head.')):
        if name.startswith(prefix):
            target = mapper(name[len(prefix):])
            return (target_prefix + target if target else None), None
    return None, None


def _examples(items: List[str], limit: int = 3) -> str:
    shown = ', '.join(items[:limit])
    return shown + (f', ... ({len(items) - limit} more)' if len(items) > limit else '')


def convert_state_dict(source: Mapping[str, np.ndarray],
                       target_shapes: Mapping[str, Tuple[int, ...]],
                       kind: str,
                       allow_missing: bool = False,
                       allow_unused: bool = False
                       ) -> Tuple['OrderedDict[str, torch.Tensor]', ConversionReport]:
    """Map Paddle tensors onto the target model's state-dict names and check completeness.

    Args:
        source (Mapping[str, np.ndarray]): Paddle tensors (see :func:`load_pdparams`).
        target_shapes (Mapping[str, tuple]): name → shape of every entry of the target
            ``state_dict()`` (backbone-only names for ``kind='backbone'``).
        kind (str): ``'backbone'`` or ``'detector'``.
        allow_missing (bool): do not fail when some target is not filled.
        allow_unused (bool): do not fail when some source tensor has no place.

    Returns:
        tuple: the converted state dict (float32 tensors in ``target_shapes`` order, BN
        ``num_batches_tracked`` set to 0) and the :class:`ConversionReport`.

    Raises:
        ConversionError: two sources for one target, a shape mismatch, a source that is not a
            floating-point array, a missing target (unless ``allow_missing``) or an unused
            source (unless ``allow_unused``). The message is one line with a few examples;
            ``error.report`` names every entry.
    """
    report = ConversionReport()
    placed: Dict[str, Tuple[str, torch.Tensor]] = {}
    for name in sorted(source):
        target, dropped_because = map_paddle_name(name, kind)
        if dropped_because:
            report.dropped.append((name, dropped_because))
            continue
        if target is None or target not in target_shapes:
            report.unused.append(name)
            continue
        if target in placed:
            raise ConversionError(f'{name} and {placed[target][0]} both map to {target}')
        array = np.asarray(source[name])
        if tuple(array.shape) != tuple(target_shapes[target]):
            report.shape_mismatch.append(
                f'{name} {list(array.shape)} -> {target} {list(target_shapes[target])}')
            continue
        if array.dtype.kind != 'f':  # Paddle stores bfloat16 as uint16: not convertible as is
            report.wrong_dtype.append(f'{name} ({array.dtype})')
            continue
        placed[target] = (name, torch.from_numpy(np.ascontiguousarray(array)).float())

    state_dict: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    for target in target_shapes:
        if target in placed:
            report.filled.append((target, placed[target][0]))
            state_dict[target] = placed[target][1]
        elif target.endswith('num_batches_tracked'):
            report.synthesised.append(target)
            state_dict[target] = torch.tensor(0, dtype=torch.long)
        else:
            report.missing.append(target)

    problems = []
    if report.shape_mismatch:
        problems.append(f'{len(report.shape_mismatch)} shape mismatch(es): '
                        f'{_examples(report.shape_mismatch)}')
    if report.wrong_dtype:
        problems.append(f'{len(report.wrong_dtype)} source(s) not floating point '
                        f'(bfloat16 is stored as uint16; save float32): '
                        f'{_examples(report.wrong_dtype)}')
    if report.missing and not allow_missing:
        problems.append(f'{len(report.missing)} target(s) not filled: '
                        f'{_examples(report.missing)} (allow_missing / --allow-missing)')
    if report.unused and not allow_unused:
        problems.append(f'{len(report.unused)} source tensor(s) without a place: '
                        f'{_examples(report.unused)} (allow_unused / --allow-unused)')
    if problems:
        raise ConversionError(f'Paddle {kind} conversion failed: ' + '; '.join(problems), report)
    return state_dict, report
