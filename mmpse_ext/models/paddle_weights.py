"""PaddleOCR ``.pdparams`` (PSENet recipe) → mmengine checkpoint of our model.

Two sources are supported:

* ``ResNet50_vd_ssld_pretrained`` (ImageNet, PaddleClas layout): backbone names such as
  ``conv1_1._conv.weight`` or ``bb_2_3.conv1._batch_norm._mean`` (with or without a leading
  ``backbone.``) plus the classifier ``out.*``, which is dropped. Output keys have no prefix, for
  ``backbone.init_cfg=dict(type='Pretrained', checkpoint=...)``.
* a trained ``det_r50_vd_pse`` model: ``backbone.*``, ``neck.*`` and ``head.*``. Output keys are
  ``backbone.*``, ``neck.*`` and ``det_head.*``, for ``load_from``.

Layer correspondence (Paddle ``ResNet_vd`` → mmdet ``ResNetV1d``, both bottleneck with the
stride on the 3×3 convolution and an average-pool shortcut that is skipped in the first stage):
``conv1_{1,2,3}`` → ``stem.{0,3,6}`` (BN ``stem.{1,4,7}``); ``bb_{s}_{i}.conv{0,1,2}`` →
``layer{s+1}.{i}.conv{1,2,3}`` / ``bn{1,2,3}``; ``bb_{s}_0.short`` → ``layer{s+1}.0.downsample.1``
(conv) / ``.2`` (BN), index 0 being mmdet's average pool (an identity 1×1 pool in stage 1).
Paddle FPN ``toplayer_, latlayer1_, latlayer2_, latlayer3_`` → ``lateral_convs.3, .2, .1, .0``;
``smooth1_, smooth2_, smooth3_`` → ``smooth_convs.2, .1, .0``; head ``conv1``/``bn1``/``conv2`` →
``fuse_conv``/``fuse_bn``/``out_conv``. BN ``_mean``/``_variance`` →
``running_mean``/``running_var``; convolution weights have the same [out, in, kh, kw] layout.

Checked to match (tests/test_models/test_paddle_weights.py runs a forward pass written from
Paddle's layer definitions on the Paddle-named tensors): deep stem 32-32-64 with 3×3 convs,
max-pool 3/2/1; shortcut of the first block of stages 2-4 = 2×2 average pool (ceil mode,
padding excluded) then a stride-1 1×1 conv, of stage 1 a plain 1×1 conv (Paddle
``if_first``; mmdet inserts an identity 1×1 pool); BN eps 1e-5; FPN bilinear upsampling with
half-pixel centres (Paddle ``align_corners=False, align_mode=0``) and the concat order
p2, p3, p4, p5; the head's biased 3×3 conv.

Known differences that a conversion cannot remove (training/inference behaviour, not weights):
Paddle's FPN BN uses ``momentum=0.1`` in Paddle's convention (torch 0.9), see ``PSEFPN``;
Paddle rounds output polygon coordinates to integers, we keep float32; the loss's OHEM picks
exactly 3×#pos negatives inside the training mask (Paddle keeps ties and counts negatives
outside the mask), see ``PSELoss``.
"""
import pickle
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch

#: Non-tensor bookkeeping entry that paddle.save adds to every .pdparams file.
PADDLE_STRUCTURE_KEY = 'StructuredToParameterName@@'

_BN_SUFFIX = {'weight': 'weight', 'bias': 'bias', '_mean': 'running_mean',
              '_variance': 'running_var'}
_NECK_LATERAL = {'toplayer_': 3, 'latlayer1_': 2, 'latlayer2_': 1, 'latlayer3_': 0}
_NECK_SMOOTH = {'smooth1_': 2, 'smooth2_': 1, 'smooth3_': 0}

_STEM = re.compile(r'conv1_([123])\.(_conv\.weight|_batch_norm\.(\w+))$')
_BLOCK = re.compile(r'bb_(\d+)_(\d+)\.(conv[012]|short)\.(_conv\.weight|_batch_norm\.(\w+))$')
_NECK = re.compile(r'(\w+_)\.(conv\.weight|bn\.(\w+))$')
_HEAD = re.compile(r'(conv1|bn1|conv2)\.(\w+)$')


class ConversionError(RuntimeError):
    """The source does not fill the target model, or holds tensors we cannot place."""


@dataclass
class ConversionReport:
    """What a conversion did; every source key and every target key appears exactly once."""
    filled: List[Tuple[str, str]] = field(default_factory=list)  # (target, source)
    synthesised: List[str] = field(default_factory=list)  # BN num_batches_tracked = 0
    missing: List[str] = field(default_factory=list)  # targets without a source
    dropped: List[Tuple[str, str]] = field(default_factory=list)  # (source, why)
    unused: List[str] = field(default_factory=list)  # sources with no place in the target
    shape_mismatch: List[str] = field(default_factory=list)

    def summary(self) -> str:
        """Human-readable multi-line summary."""
        lines = [
            f'filled targets: {len(self.filled)}',
            f'synthesised targets (BN num_batches_tracked = 0): {len(self.synthesised)}',
            f'missing targets: {len(self.missing)}',
            f'used sources: {len(self.filled)}',
            f'dropped sources: {len(self.dropped)}',
            f'unused sources: {len(self.unused)}',
            f'shape mismatches: {len(self.shape_mismatch)}',
        ]
        for title, items in (('missing target', self.missing), ('unused source', self.unused),
                             ('shape mismatch', self.shape_mismatch)):
            lines += [f'  {title}: {item}' for item in items]
        lines += [f'  dropped source: {source} ({why})' for source, why in self.dropped]
        return '\n'.join(lines)


def load_pdparams(path: str) -> Dict[str, np.ndarray]:
    """Read a ``.pdparams`` file (a pickle of name → ndarray) without Paddle.

    Args:
        path (str): the file.

    Returns:
        dict[str, np.ndarray]: every entry except the non-tensor ``StructuredToParameterName@@``.

    Raises:
        ValueError: the file is not a pickled dict, or holds another non-array entry.
    """
    with open(path, 'rb') as f:
        try:
            content = pickle.load(f, encoding='latin1')
        except Exception as error:  # pickle raises many types on a foreign file
            raise ValueError(f'{path}: not a .pdparams pickle ({error})') from error
    if not isinstance(content, dict):
        raise ValueError(f'{path}: expected a pickled dict of name -> ndarray, got '
                         f'{type(content).__name__}')
    arrays = {}
    for name, value in content.items():
        if name == PADDLE_STRUCTURE_KEY:
            continue
        if not isinstance(value, np.ndarray):
            raise ValueError(f'{path}: entry {name!r} is a {type(value).__name__}, not an array')
        arrays[name] = value
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
                                          ('neck.', _map_neck, 'neck.'),
                                          ('head.', _map_head, 'det_head.')):
        if name.startswith(prefix):
            target = mapper(name[len(prefix):])
            return (target_prefix + target if target else None), None
    return None, None


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
        tuple: the converted state dict (float tensors in ``target_shapes`` order, BN
        ``num_batches_tracked`` set to 0) and the :class:`ConversionReport`.

    Raises:
        ConversionError: a shape mismatch or a duplicate, a missing target (unless
            ``allow_missing``) or an unused source (unless ``allow_unused``); the message lists
            them.
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

    problems = list(report.shape_mismatch)
    if report.missing and not allow_missing:
        problems.append(f'{len(report.missing)} target(s) not filled, e.g. '
                        f'{report.missing[:5]} (allow with allow_missing / --allow-missing)')
    if report.unused and not allow_unused:
        problems.append(f'{len(report.unused)} source tensor(s) without a place, e.g. '
                        f'{report.unused[:5]} (allow with allow_unused / --allow-unused)')
    if problems:
        raise ConversionError(f'Paddle {kind} conversion failed:\n  ' + '\n  '.join(problems) +
                              '\n' + report.summary())
    return state_dict, report
