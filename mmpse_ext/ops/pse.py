"""Progressive scale expansion (PSENet's post-processing), backed by ``torch.ops.pse_ext``.

Every wrapper accepts tensors on any device. Where the loaded extension has no kernel for the
inputs' device (a CPU-only build given CUDA tensors; the fused and packed ops are CPU-only by
design), the inputs are copied to the host, the CPU kernel runs, the results are moved back, and
a warning says so once (:func:`mmpse_ext.ops.extension.needs_host_fallback`).

Without a built ``mmpse_ext._C`` this module still imports; the wrappers then raise an
``ImportError`` naming the build command. The fake (meta) kernels that let ``torch.compile``,
``torch.export`` and ``torch.library.opcheck`` trace the ops are registered only when the extension
is loaded, with ``torch.library.register_fake`` (torch >= 2.4) or ``torch.library.impl_abstract``
(torch 2.2 and 2.3); torch 2.0 and 2.1 have neither, so tracing the ops is unsupported there
(:data:`FAKE_KERNELS_REGISTERED` is False; docs/setup.md).
"""
from typing import NamedTuple

import torch
from torch import Tensor

from . import extension


def _fake_kernel_api():
    """torch's decorator that registers a Python fake kernel for a C++ op, or None (torch < 2.2)."""
    for name in ('register_fake', 'impl_abstract'):
        register = getattr(torch.library, name, None)
        if register is not None:
            return register
    return None


#: Whether the ops have fake kernels in this process (the extension loaded and torch has
#: ``register_fake`` or ``impl_abstract``); without them torch.compile/torch.export cannot trace
#: the ops, and meta tensors reach no kernel.
FAKE_KERNELS_REGISTERED = extension.extension_available() and _fake_kernel_api() is not None


def _fake_kernel(qualname: str):
    """``@register_fake(qualname)`` where :data:`FAKE_KERNELS_REGISTERED`, else a no-op."""
    if not FAKE_KERNELS_REGISTERED:
        return lambda function: function
    return _fake_kernel_api()(qualname)


class PSEResult(NamedTuple):
    """Output of :func:`progressive_scale_expansion`; N = number of instances.

    Attributes:
        labels (Tensor[H, W], int32): instance id per pixel, 0 = background, 1..N numbered in
            raster order of the first pixel of each instance's seed.
        areas (Tensor[N], int64): pixel count of instance ``i + 1`` at index ``i``.
        score_sums (Tensor[N], float64): sum of ``score`` over each instance's pixels.
        boxes (Tensor[N, 4], int32): ``x_min, y_min, x_max, y_max`` of each instance, inclusive.
    """
    labels: Tensor
    areas: Tensor
    score_sums: Tensor
    boxes: Tensor


def progressive_scale_expansion(kernels: Tensor, score: Tensor, min_area: int) -> PSEResult:
    """Label text instances by growing the smallest kernels through the larger ones.

    Official PSENet semantics: seeds are the 4-connected components of ``kernels[K - 1]`` with at
    least ``min_area`` pixels; for each level ``K - 2 … 0`` a FIFO breadth-first expansion (first
    come wins) claims unlabelled 4-neighbours inside that level's kernel, and pixels that could
    not expand are carried to the next level. The CPU kernel reproduces the reference exactly;
    the CUDA kernel follows the same queue order level by level.

    Args:
        kernels (Tensor[K, H, W], bool or uint8): kernel masks, K >= 1, index 0 = largest (the
            text map) … K - 1 = smallest; any non-zero value counts as inside.
        score (Tensor[H, W], float32): text probability map on the same device, summed per
            instance into ``score_sums``.
        min_area (int): seeds with fewer pixels are dropped; must be >= 0.

    Returns:
        PSEResult: label map and per-instance statistics, on the input's device.
    """
    extension.load_extension()
    device = kernels.device
    if extension.needs_host_fallback('progressive_scale_expansion', device):
        result = torch.ops.pse_ext.progressive_scale_expansion(kernels.cpu(), score.cpu(), min_area)
        return _on_device(result, device)
    return PSEResult(*torch.ops.pse_ext.progressive_scale_expansion(kernels, score, min_area))


def _on_device(result, device: torch.device) -> PSEResult:
    return PSEResult(*(tensor.to(device) for tensor in result))


@_fake_kernel('pse_ext::progressive_scale_expansion')
def _progressive_scale_expansion_fake(kernels: Tensor, score: Tensor,
                                      min_area: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    # The same checks as csrc/pse_checks.h, so traced and compiled code fails as early.
    name = 'progressive_scale_expansion'
    torch._check(kernels.dim() == 3,
                 lambda: f'{name}: kernels should be a 3D tensor [K, H, W], got {kernels.dim()}D')
    torch._check(
        kernels.dtype in (torch.bool, torch.uint8),
        lambda: f'{name}: kernels should be bool or uint8, got {kernels.dtype}')
    torch._check(kernels.shape[0] >= 1,
                 lambda: f'{name}: kernels should hold at least one level, got K = 0')
    torch._check(score.dim() == 2,
                 lambda: f'{name}: score should be a 2D tensor [H, W], got {score.dim()}D')
    torch._check(score.dtype == torch.float32,
                 lambda: f'{name}: score should be float32, got {score.dtype}')
    torch._check(
        score.shape == kernels.shape[1:],
        lambda: f'{name}: score should have shape {tuple(kernels.shape[1:])}, got '
        f'{tuple(score.shape)}')
    torch._check(min_area >= 0, lambda: f'{name}: min_area should be >= 0, got {min_area}')
    torch._check(
        score.device == kernels.device,
        lambda: f'{name}: score should be on the same device as kernels '
        f'({kernels.device}), got {score.device}')
    num_instances = torch.library.get_ctx().new_dynamic_size()
    height, width = kernels.shape[1], kernels.shape[2]
    return (kernels.new_empty(
        (height, width), dtype=torch.int32), kernels.new_empty(
            (num_instances, ),
            dtype=torch.int64), score.new_empty((num_instances, ), dtype=torch.float64),
            kernels.new_empty((num_instances, 4), dtype=torch.int32))


def progressive_scale_expansion_from_logits(logits: Tensor,
                                            scale: int,
                                            out_size: tuple[int, int],
                                            min_area: int,
                                            logit_threshold: float = 0.0) -> PSEResult:
    """PSENet post-processing from low-resolution logits, upsampled inside the op (CPU kernel).

    Equivalent to::

        up = F.interpolate(logits[None], scale_factor=scale, mode='bilinear',
                           align_corners=False)[0, :, :H, :W]
        kernels = (up > logit_threshold) & (up[:1] > logit_threshold)
        progressive_scale_expansion(kernels, up[0].sigmoid(), min_area)

    without materialising ``up``: each output row is interpolated with the same taps and
    evaluation order as torch's CPU kernel, thresholded into the expansion's packed masks, and the
    score is summed only at labelled pixels. The upsampled values can differ from torch's by float
    rounding (torch may contract to FMA), so a mask can differ only at pixels whose interpolated
    logit is within rounding of the threshold (docs/interfaces.md states the bound); ``score_sums``
    agree to float32 rounding. Logits on another device are decoded on host copies (one warning).

    Args:
        logits (Tensor[K, h, w], float32): channel 0 = text, 1 .. K - 1 = kernels, largest
            to smallest; K >= 1.
        scale (int): integer upsampling factor, 1 .. 64.
        out_size (tuple[int, int]): (H, W) <= (scale·h, scale·w): the top-left crop of the
            upsampled maps to label (the un-padded input).
        min_area (int): seeds (components of the smallest kernel) with fewer pixels are dropped;
            must be >= 0.
        logit_threshold (float): a pixel is inside a map where its interpolated logit is greater;
            0 = probability 0.5. Compared in float32 exactly as with a double (the op rounds it
            down to the largest float32 not above it).

    Returns:
        PSEResult: labels ``[H, W]`` int32 and per-instance ``areas``, ``score_sums`` (sum of
        sigmoid(text logit)) and ``boxes``, as :func:`progressive_scale_expansion`.
    """
    extension.load_extension()
    height, width = out_size
    device = logits.device
    if extension.needs_host_fallback('progressive_scale_expansion_from_logits', device):
        return _on_device(
            torch.ops.pse_ext.progressive_scale_expansion_from_logits(logits.cpu(), scale, height,
                                                                      width, min_area,
                                                                      float(logit_threshold)),
            device)
    return PSEResult(*torch.ops.pse_ext.progressive_scale_expansion_from_logits(
        logits, scale, height, width, min_area, float(logit_threshold)))


@_fake_kernel('pse_ext::progressive_scale_expansion_from_logits')
def _progressive_scale_expansion_from_logits_fake(logits: Tensor,
                                                  scale: int,
                                                  height: int,
                                                  width: int,
                                                  min_area: int,
                                                  logit_threshold: float = 0.0
                                                  ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    # The same checks as csrc/pse_checks.h, so traced and compiled code fails as early.
    name = 'progressive_scale_expansion_from_logits'
    torch._check(logits.dim() == 3,
                 lambda: f'{name}: logits should be a 3D tensor [K, h, w], got {logits.dim()}D')
    torch._check(logits.dtype == torch.float32,
                 lambda: f'{name}: logits should be float32, got {logits.dtype}')
    torch._check(logits.shape[0] >= 1,
                 lambda: f'{name}: logits should hold at least the text channel, got K = 0')
    torch._check(1 <= scale <= 64,
                 lambda: f'{name}: scale should be an integer in [1, 64], got {scale}')
    torch._check(
        0 <= height <= scale * logits.shape[1],
        lambda: f'{name}: height should be in [0, scale * h] = '
        f'[0, {scale * logits.shape[1]}], got {height}')
    torch._check(
        0 <= width <= scale * logits.shape[2],
        lambda: f'{name}: width should be in [0, scale * w] = '
        f'[0, {scale * logits.shape[2]}], got {width}')
    torch._check(min_area >= 0, lambda: f'{name}: min_area should be >= 0, got {min_area}')
    torch._check(logit_threshold == logit_threshold,
                 lambda: f'{name}: logit_threshold should be a number, got {logit_threshold}')
    num_instances = torch.library.get_ctx().new_dynamic_size()
    return (logits.new_empty(
        (height, width), dtype=torch.int32), logits.new_empty((num_instances, ), dtype=torch.int64),
            logits.new_empty((num_instances, ), dtype=torch.float64),
            logits.new_empty((num_instances, 4), dtype=torch.int32))


def progressive_scale_expansion_packed(packed: Tensor, num_levels: int, text_logits: Tensor,
                                       scale: int, min_area: int) -> PSEResult:
    """The expansion from bit-packed kernel masks (CPU kernel), with scores from the text logits.

    The host half of decoding on an accelerator: the device upsamples and thresholds the logits
    and packs the K masks into one byte per pixel (:func:`pack_kernel_masks`); this op expands on
    the CPU from the packed bytes, without unpacking them into a ``[K, H, W]`` stack. Equivalent
    to::

        kernels = torch.stack([(packed >> k) & 1 for k in range(num_levels)])
        up = F.interpolate(text_logits[None, None], scale_factor=scale, mode='bilinear',
                           align_corners=False)[0, 0, :H, :W]
        progressive_scale_expansion(kernels, up.sigmoid(), min_area)

    with the same labels, areas and boxes, and ``score_sums`` within float32 rounding (the
    sigmoid is evaluated at the labelled pixels only). Inputs on another device are copied to the
    host (one warning).

    Args:
        packed (Tensor[H, W], uint8): bit k = "in kernel k" for k < ``num_levels``; bit 0 is the
            largest (text) map, bit K - 1 the smallest; higher bits are ignored.
        num_levels (int): K, 1 .. 8.
        text_logits (Tensor[h, w], float32): the low-resolution text logits, with
            (H, W) <= (scale·h, scale·w).
        scale (int): integer upsampling factor of ``text_logits``, 1 .. 64.
        min_area (int): seeds with fewer pixels are dropped; must be >= 0.

    Returns:
        PSEResult: as :func:`progressive_scale_expansion`, on ``packed``'s device.
    """
    extension.load_extension()
    device = packed.device
    if extension.needs_host_fallback('progressive_scale_expansion_packed', device):
        return _on_device(
            torch.ops.pse_ext.progressive_scale_expansion_packed(packed.cpu(), num_levels,
                                                                 text_logits.cpu(), scale,
                                                                 min_area), device)
    return PSEResult(*torch.ops.pse_ext.progressive_scale_expansion_packed(
        packed, num_levels, text_logits, scale, min_area))


@_fake_kernel('pse_ext::progressive_scale_expansion_packed')
def _progressive_scale_expansion_packed_fake(packed: Tensor, num_levels: int, text_logits: Tensor,
                                             scale: int, min_area: int
                                             ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    # The same checks as csrc/pse_checks.h, so traced and compiled code fails as early.
    name = 'progressive_scale_expansion_packed'
    torch._check(packed.dim() == 2,
                 lambda: f'{name}: packed should be a 2D tensor [H, W], got {packed.dim()}D')
    torch._check(packed.dtype == torch.uint8,
                 lambda: f'{name}: packed should be uint8, got {packed.dtype}')
    torch._check(1 <= num_levels <= 8,
                 lambda: f'{name}: num_levels should be in [1, 8], got {num_levels}')
    torch._check(
        text_logits.dim() == 2, lambda: f'{name}: text_logits should be a 2D tensor [h, w], got '
        f'{text_logits.dim()}D')
    torch._check(text_logits.dtype == torch.float32,
                 lambda: f'{name}: text_logits should be float32, got {text_logits.dtype}')
    torch._check(
        text_logits.device == packed.device,
        lambda: f'{name}: text_logits should be on the same device as packed '
        f'({packed.device}), got {text_logits.device}')
    torch._check(1 <= scale <= 64,
                 lambda: f'{name}: scale should be an integer in [1, 64], got {scale}')
    torch._check(
        packed.shape[0] <= scale * text_logits.shape[0]
        and packed.shape[1] <= scale * text_logits.shape[1],
        lambda: f'{name}: packed [H, W] = {list(packed.shape)} should fit in scale * '
        f'text_logits = [{scale * text_logits.shape[0]}, '
        f'{scale * text_logits.shape[1]}]')
    torch._check(min_area >= 0, lambda: f'{name}: min_area should be >= 0, got {min_area}')
    num_instances = torch.library.get_ctx().new_dynamic_size()
    height, width = packed.shape
    return (packed.new_empty(
        (height, width), dtype=torch.int32), packed.new_empty((num_instances, ), dtype=torch.int64),
            text_logits.new_empty((num_instances, ), dtype=torch.float64),
            packed.new_empty((num_instances, 4), dtype=torch.int32))


def pack_kernel_masks(masks: Tensor) -> Tensor:
    """Pack K <= 8 masks into one byte per pixel, bit k = ``masks[k]`` (on the masks' device).

    The input of :func:`progressive_scale_expansion_packed`; an ``[H, W]`` byte map is what an
    accelerator copies to the host instead of K full-resolution maps.

    Args:
        masks (Tensor[K, H, W], bool or uint8 in {0, 1}): 1 <= K <= 8.

    Returns:
        Tensor[H, W], uint8.
    """
    if masks.dim() != 3 or not 1 <= masks.shape[0] <= 8:
        raise ValueError('pack_kernel_masks: masks should be [K, H, W] with 1 <= K <= 8, got '
                         f'shape {list(masks.shape)}')
    if masks.dtype not in (torch.bool, torch.uint8):
        raise ValueError(f'pack_kernel_masks: masks should be bool or uint8, got {masks.dtype}')
    bytes_ = masks.to(torch.uint8)
    packed = bytes_.select(0, 0).clone()
    for level in range(1, masks.shape[0]):
        packed |= bytes_.select(0, level) << level
    return packed
