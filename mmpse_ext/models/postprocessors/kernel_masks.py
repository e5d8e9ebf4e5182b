"""PSENet's kernel masks and text score from low-resolution logits, as plain torch ops.

What the post-processor computes on an accelerator before the expansion: the logits are upsampled
bilinearly (``align_corners=False``), cropped to the un-padded input, and thresholded; every
kernel is masked by the text map. The CPU path does the same inside the fused op
``progressive_scale_expansion_from_logits``. Views are taken with ``narrow``/``select`` rather
than indexing, which also lets tests run this code on emulated CUDA tensors
(``tests/cuda_typed_tensor.py``; indexing would open a CUDA device guard).
"""
import math
from typing import Tuple

import numpy as np
import torch.nn.functional as F
from torch import Tensor


def logit_threshold(probability: float) -> float:
    """The logit threshold equivalent to ``sigmoid(x) > probability`` on float32 logits ``x``.

    Returns the largest float32 not above ``log(p / (1 - p))``, so ``x > result`` holds for a
    float32 ``x`` exactly when ``x > log(p / (1 - p))``, in every path (a torch comparison with
    a Python float rounds the scalar to float32; the C++ ops round it down).

    Args:
        probability (float): in (0, 1); 0.5 gives 0.0.

    Returns:
        float: a value representable in float32.
    """
    if not 0.0 < probability < 1.0:
        raise ValueError(f'min_kernel_confidence must be in (0, 1), got {probability}')
    exact = math.log(probability) - math.log1p(-probability)
    rounded = np.float32(exact)
    if float(rounded) > exact:
        rounded = np.nextafter(rounded, np.float32(-np.inf))
    return float(rounded)


def upsample_logits(logits: Tensor, scale: int, out_size: Tuple[int, int]) -> Tensor:
    """``[K, h, w]`` → the top-left ``out_size`` crop of the ×``scale`` bilinear upsampling."""
    height, width = out_size
    up = F.interpolate(
        logits.unsqueeze(0), scale_factor=scale, mode='bilinear', align_corners=False)
    return up.squeeze(0).narrow(1, 0, height).narrow(2, 0, width)


def upsampled_kernel_masks(logits: Tensor, scale: int, out_size: Tuple[int, int],
                           threshold: float) -> Tensor:
    """Kernel masks ``[K, H, W]`` bool: (logit k > threshold) ∧ (text logit > threshold).

    Args:
        logits (Tensor[K, h, w], float32): channel 0 = text, K - 1 = smallest kernel; any device.
        scale (int): upsampling factor.
        out_size (tuple[int, int]): (H, W) <= (scale·h, scale·w).
        threshold (float): logit threshold (:func:`logit_threshold`).

    Returns:
        Tensor[K, H, W], bool, contiguous, on the logits' device.
    """
    masks = (upsample_logits(logits, scale, out_size) > threshold).contiguous()
    kernels = masks.narrow(0, 1, masks.shape[0] - 1)  # a view: masked in place
    kernels &= masks.narrow(0, 0, 1)
    return masks


def upsampled_text_score(logits: Tensor, scale: int, out_size: Tuple[int, int]) -> Tensor:
    """``sigmoid`` of the upsampled text logit, ``[H, W]`` float32, contiguous."""
    text = upsample_logits(logits.narrow(0, 0, 1), scale, out_size).squeeze(0)
    return text.sigmoid().contiguous()
