#!/usr/bin/env python
"""Run the mmcv CPU ops that mmdet and mmocr use on small seeded inputs and save the outputs.

    python .dev_scripts/mmcv_build/mmcv_op_outputs.py OUT.npz

Used to show that the fast mmcv build of ``.dev_scripts/mmcv_build/build_mmcv_wheel.sh`` (no debug
information, one precompiled header) computes what the plain build computes: the outputs of a
plain build are stored in ``tests/data/mmcv_ops_plain_build.npz`` (made with this script, see
docs/setup.md) and ``tests/test_tools/test_mmcv_build.py`` compares the installed build's
outputs with them, bit for bit.
"""
import argparse
from typing import Callable, Dict

import numpy as np
import torch


def _boxes(generator: torch.Generator, num: int, size: float = 64.0) -> torch.Tensor:
    """``num`` random axis-aligned boxes ``x1, y1, x2, y2`` inside ``[0, size]²``."""
    corner = torch.rand(num, 2, generator=generator) * size * 0.75
    extent = torch.rand(num, 2, generator=generator) * size * 0.25 + 2.0
    return torch.cat([corner, corner + extent], dim=1)


def _nms(g):
    from mmcv.ops import nms, soft_nms
    boxes, scores = _boxes(g, 60), torch.rand(60, generator=g)
    dets, keep = nms(boxes, scores, iou_threshold=0.3)
    soft_dets, soft_keep = soft_nms(
        boxes, scores, iou_threshold=0.3, sigma=0.5, min_score=0.05, method='gaussian')
    return dict(dets=dets, keep=keep, soft_dets=soft_dets, soft_keep=soft_keep)


def _rotated(g):
    from mmcv.ops import box_iou_rotated, nms_rotated
    centre = torch.rand(40, 2, generator=g) * 48 + 8
    size = torch.rand(40, 2, generator=g) * 12 + 2
    angle = (torch.rand(40, 1, generator=g) - 0.5) * np.pi
    boxes = torch.cat([centre, size, angle], dim=1)
    scores = torch.rand(40, generator=g)
    dets, keep = nms_rotated(boxes, scores, iou_threshold=0.2)
    return dict(ious=box_iou_rotated(boxes[:20], boxes[20:]), dets=dets, keep=keep)


def _bbox_overlaps(g):
    from mmcv.ops import bbox_overlaps
    a, b = _boxes(g, 30), _boxes(g, 25)
    return dict(iou=bbox_overlaps(a, b), iof=bbox_overlaps(a, b, mode='iof'))


def _roi_align(g):
    from mmcv.ops import roi_align, roi_align_rotated
    features = torch.randn(2, 3, 24, 24, generator=g, requires_grad=True)
    rois = torch.cat([torch.tensor([[0.], [1.], [1.], [0.]]), _boxes(g, 4, 90.0)], dim=1)
    # autograd Functions: positional arguments only
    pooled = roi_align(features, rois, (5, 5), 0.25, 2, 'avg', True)
    pooled.sum().backward()
    centre = torch.rand(4, 2, generator=g) * 60 + 10
    size = torch.rand(4, 2, generator=g) * 20 + 4
    angle = (torch.rand(4, 1, generator=g) - 0.5) * np.pi
    rotated_rois = torch.cat([rois[:, :1], centre, size, angle], dim=1)
    rotated = roi_align_rotated(features.detach(), rotated_rois, (4, 4), 0.25, 2, True, False)
    return dict(pooled=pooled, grad=features.grad, rotated=rotated)


def _deform_conv(g):
    from mmcv.ops import deform_conv2d, modulated_deform_conv2d
    x = torch.randn(1, 4, 9, 9, generator=g, requires_grad=True)
    weight = torch.randn(6, 4, 3, 3, generator=g, requires_grad=True)
    offset = torch.randn(1, 18, 9, 9, generator=g) * 1.5
    mask = torch.rand(1, 9, 9, 9, generator=g)
    out = deform_conv2d(x, offset, weight, 1, 1)
    out.sum().backward()
    modulated = modulated_deform_conv2d(x.detach(), offset, mask, weight.detach(), None, 1, 1)
    return dict(out=out, grad_x=x.grad, grad_weight=weight.grad, modulated=modulated)


def _contour_expand(g):
    from mmcv.ops import contour_expand
    kernels = (torch.rand(3, 32, 32, generator=g) > 0.35).to(torch.uint8)
    kernels[1] &= kernels[0]
    kernels[2] &= kernels[1]
    import cv2
    num, seed_labels = cv2.connectedComponents(kernels[2].numpy(), connectivity=4)
    labels = contour_expand(kernels.numpy(), seed_labels, 2, num)
    return dict(labels=np.asarray(labels, dtype=np.int32))


def _pixel_group(g):
    import cv2
    from mmcv.ops import pixel_group
    score = torch.rand(32, 32, generator=g)
    mask = score > 0.3
    embedding = torch.randn(32, 32, 4, generator=g)
    kernel = ((score > 0.6).numpy()).astype(np.uint8)
    num, kernel_label = cv2.connectedComponents(kernel, connectivity=4)
    contour = np.zeros_like(kernel)
    for label in range(1, num):
        found, _ = cv2.findContours((kernel_label == label).astype(np.uint8), cv2.RETR_EXTERNAL,
                                    cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(contour, found, -1, 1)
    groups = pixel_group(score, mask, embedding, torch.from_numpy(kernel_label),
                         torch.from_numpy(contour), num, 0.8)
    return dict(groups=np.concatenate([np.asarray(p, dtype=np.float32) for p in groups]))


#: name -> function of a seeded generator returning named outputs.
CASES: Dict[str, Callable] = {
    'nms': _nms,
    'rotated': _rotated,
    'bbox_overlaps': _bbox_overlaps,
    'roi_align': _roi_align,
    'deform_conv': _deform_conv,
    'contour_expand': _contour_expand,
    'pixel_group': _pixel_group,
}


def compute_outputs() -> Dict[str, np.ndarray]:
    """Every case's outputs as float64/int64 arrays, keyed ``'<case>/<output>'``."""
    outputs = {}
    torch.set_num_threads(1)  # one thread: a fixed summation order in the parallel kernels
    for name, case in CASES.items():
        generator = torch.Generator().manual_seed(sum(map(ord, name)))
        for key, value in case(generator).items():
            if isinstance(value, torch.Tensor):
                value = value.detach().numpy()
            outputs[f'{name}/{key}'] = np.asarray(value)
    return outputs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', help='.npz file to write')
    args = parser.parse_args()
    import mmcv
    outputs = compute_outputs()
    np.savez_compressed(args.out, mmcv_version=np.array(mmcv.__version__), **outputs)
    print(f'{len(outputs)} outputs of mmcv {mmcv.__version__} ({mmcv.__file__}) -> {args.out}')


if __name__ == '__main__':
    main()
