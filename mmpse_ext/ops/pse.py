"""Progressive scale expansion (PSENet's post-processing), backed by ``torch.ops.pse_ext``."""
from typing import NamedTuple

import torch
from torch import Tensor

from .extension import load_extension

load_extension()


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
    return PSEResult(*torch.ops.pse_ext.progressive_scale_expansion(kernels, score, min_area))


@torch.library.register_fake('pse_ext::progressive_scale_expansion')
def _progressive_scale_expansion_fake(kernels: Tensor, score: Tensor,
                                      min_area: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    # The same checks as csrc/pse_checks.h, so traced and compiled code fails as early.
    name = 'progressive_scale_expansion'
    torch._check(kernels.dim() == 3,
                 lambda: f'{name}: kernels should be a 3D tensor [K, H, W], got {kernels.dim()}D')
    torch._check(kernels.dtype in (torch.bool, torch.uint8),
                 lambda: f'{name}: kernels should be bool or uint8, got {kernels.dtype}')
    torch._check(kernels.shape[0] >= 1,
                 lambda: f'{name}: kernels should hold at least one level, got K = 0')
    torch._check(score.dim() == 2,
                 lambda: f'{name}: score should be a 2D tensor [H, W], got {score.dim()}D')
    torch._check(score.dtype == torch.float32,
                 lambda: f'{name}: score should be float32, got {score.dtype}')
    torch._check(score.shape == kernels.shape[1:],
                 lambda: f'{name}: score should have shape {tuple(kernels.shape[1:])}, got '
                 f'{tuple(score.shape)}')
    torch._check(min_area >= 0, lambda: f'{name}: min_area should be >= 0, got {min_area}')
    torch._check(score.device == kernels.device,
                 lambda: f'{name}: score should be on the same device as kernels '
                 f'({kernels.device}), got {score.device}')
    num_instances = torch.library.get_ctx().new_dynamic_size()
    height, width = kernels.shape[1], kernels.shape[2]
    return (kernels.new_empty((height, width), dtype=torch.int32),
            kernels.new_empty((num_instances, ), dtype=torch.int64),
            score.new_empty((num_instances, ), dtype=torch.float64),
            kernels.new_empty((num_instances, 4), dtype=torch.int32))


def progressive_scale_expansion_from_logits(logits: Tensor, scale: int, out_size: tuple[int, int],
                                            min_area: int) -> PSEResult:
    """PSENet post-processing from low-resolution logits, upsampled inside the op (CPU only).

    Equivalent to::

        up = F.interpolate(logits[None], scale_factor=scale, mode='bilinear',
                           align_corners=False)[0, :, :H, :W]
        kernels = (up > 0) & (up[:1] > 0)
        progressive_scale_expansion(kernels, up[0].sigmoid(), min_area)

    without materialising ``up``: each output row is interpolated with the same taps and
    evaluation order as torch's CPU kernel, thresholded into the expansion's packed masks, and the
    score is summed only at labelled pixels. The upsampled values can differ from torch's by float
    rounding (torch may contract to FMA), so kernel masks can differ only at pixels whose
    interpolated logit is within a few float32 ulps of the corner logits' magnitude of 0; when no
    pixel is that close to 0 (e.g. logits that are small multiples of 1/8, where every step is
    exact) the labels are identical. ``score_sums`` agree to float32 rounding.

    Args:
        logits (Tensor[K, h, w], float32, CPU): channel 0 = text, 1 .. K - 1 = kernels, largest
            to smallest; K >= 1.
        scale (int): integer upsampling factor, 1 .. 64.
        out_size (tuple[int, int]): (H, W) <= (scale·h, scale·w): the top-left crop of the
            upsampled maps to label (the un-padded input).
        min_area (int): seeds (components of the smallest kernel) with fewer pixels are dropped;
            must be >= 0.

    Returns:
        PSEResult: labels ``[H, W]`` int32 and per-instance ``areas``, ``score_sums`` (sum of
        sigmoid(text logit)) and ``boxes``, as :func:`progressive_scale_expansion`.
    """
    if logits.device.type not in ('cpu', 'meta'):
        raise ValueError('progressive_scale_expansion_from_logits: only a CPU kernel exists, got '
                         f'logits on {logits.device}; upsample on the device and call '
                         'progressive_scale_expansion instead')
    height, width = out_size
    return PSEResult(*torch.ops.pse_ext.progressive_scale_expansion_from_logits(
        logits, scale, height, width, min_area))


@torch.library.register_fake('pse_ext::progressive_scale_expansion_from_logits')
def _progressive_scale_expansion_from_logits_fake(
        logits: Tensor, scale: int, height: int, width: int,
        min_area: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
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
    torch._check(0 <= height <= scale * logits.shape[1],
                 lambda: f'{name}: height should be in [0, scale * h] = '
                 f'[0, {scale * logits.shape[1]}], got {height}')
    torch._check(0 <= width <= scale * logits.shape[2],
                 lambda: f'{name}: width should be in [0, scale * w] = '
                 f'[0, {scale * logits.shape[2]}], got {width}')
    torch._check(min_area >= 0, lambda: f'{name}: min_area should be >= 0, got {min_area}')
    num_instances = torch.library.get_ctx().new_dynamic_size()
    return (logits.new_empty((height, width), dtype=torch.int32),
            logits.new_empty((num_instances, ), dtype=torch.int64),
            logits.new_empty((num_instances, ), dtype=torch.float64),
            logits.new_empty((num_instances, 4), dtype=torch.int32))
