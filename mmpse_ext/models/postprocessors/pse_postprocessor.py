"""Logit maps of PSENet → text instances (polygons + scores) in original image coordinates."""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.structures import InstanceData
from mmocr.models.textdet.postprocessors.base import BaseTextDetPostProcessor
from torch import Tensor

from mmpse_ext.ops import (PSEResult, extension, pack_kernel_masks, progressive_scale_expansion,
                           progressive_scale_expansion_from_logits,
                           progressive_scale_expansion_packed)
from mmpse_ext.registry import MODELS
from .kernel_masks import logit_threshold, upsampled_kernel_masks, upsampled_text_score

# How logits on an accelerator are decoded (``cuda_decode``).
CUDA_DECODE_PATHS = ('host_expand', 'device_bfs')


@MODELS.register_module()
class PSEPostprocessor(BaseTextDetPostProcessor):
    """Decode PSENet logits with the ``pse_ext`` progressive scale expansion.

    Steps (PaddleOCR's ``PSEPostProcess`` with ``scale=1``): the logits are upsampled
    ×``logit_stride`` (bilinear, ``align_corners=False``) to the input resolution and cropped to
    the un-padded ``img_shape``; score = sigmoid(text logit); kernel ``i`` = (sigmoid(logit
    ``i``) > ``min_kernel_confidence``) ∧ (sigmoid(text logit) > ``min_kernel_confidence``),
    MMOCR's binarisation, evaluated as a comparison of the logits with
    logit(``min_kernel_confidence``); seeds = 4-connected components of the smallest kernel with
    at least ``min_kernel_area`` pixels, grown through the larger kernels by the op. An instance
    is kept only if its area ≥ ``min_text_area`` **and** its mean score ≥ ``score_threshold``
    (MMOCR's own ``PSEPostprocessor`` keeps it when either passes). Area and mean score come from
    the op's per-instance statistics; contours are traced on each instance's bounding-box crop of
    the label map, so no step scans the full image once per instance.

    Where the decode runs:

    - CPU logits: one fused op
      (:func:`~mmpse_ext.ops.progressive_scale_expansion_from_logits`) upsamples, thresholds and
      expands row by row without materialising the full-resolution maps.
    - Logits on an accelerator, ``cuda_decode='host_expand'`` (default): upsampling, thresholds
      and bit-packing run on the device (:func:`~mmpse_ext.ops.pack_kernel_masks`), one byte
      per pixel and the low-resolution text logits are copied to the host, and the CPU expands
      (:func:`~mmpse_ext.ops.progressive_scale_expansion_packed`). Needs no CUDA kernel of ours.
    - ``cuda_decode='device_bfs'``: the masks and the score map stay on the device and the
      op's CUDA kernel expands there; only the statistics and the kept instances' crops reach the
      host. If the loaded extension has no kernel for the device, ``host_expand`` runs instead,
      with one warning.

    Both accelerator paths give the CPU path's instances (same masks, same expansion);
    ``tools/analysis_tools/benchmark_postprocess.py`` times them against each other.

    ``quad`` = corners of the minimum-area rectangle (of the outer contour, whose convex hull is
    the instance's), ``poly`` = outer contour (``CHAIN_APPROX_SIMPLE``; an instance thinner than
    two pixels, whose contour has fewer than 3 points, falls back to its ``quad``). That contour
    follows every pixel step, so a curved word has hundreds of points; ``poly_epsilon``
    simplifies it (Douglas-Peucker, ``cv2.approxPolyDP``, closed) to the subset of its vertices
    that keeps every removed one within ``poly_epsilon`` input pixels: 1.0 removes the pixel
    staircase and leaves a curved word a few dozen points. Points are pixel centres, divided by
    ``scale_factor`` and clipped to ``[0, W] × [0, H]`` of ``ori_shape`` as Paddle does.

    Args:
        text_repr_type (str): ``'quad'`` or ``'poly'``.
        rescale_fields (list[str]): fields divided by ``scale_factor``; ``['polygons']``.
        score_threshold (float): minimum mean text score of a kept instance (Paddle
            ``box_thresh``).
        min_kernel_area (int): minimum pixel count of a seed (smallest-kernel component).
        min_text_area (int): minimum pixel count of a kept instance.
        logit_stride (int): input size / logit size; one of 2, 4, 8.
        min_kernel_confidence (float): probability threshold in (0, 1) of the text and kernel
            masks (MMOCR's name and meaning); 0.5 = logit 0.
        cuda_decode (str): decode path for logits on an accelerator, ``'host_expand'`` or
            ``'device_bfs'`` (see above).
        poly_epsilon (float, optional): simplify ``poly`` outputs with this tolerance in pixels
            of the network input, where the contour is traced (see above); ``None`` or 0
            (default): the full pixel contour. A simplification left with fewer than 3 points
            keeps the contour.
        train_cfg (dict, optional): passed to MMOCR's base class.
        test_cfg (dict, optional): passed to MMOCR's base class.
    """

    def __init__(self,
                 text_repr_type: str = 'quad',
                 rescale_fields: Sequence[str] = ('polygons', ),
                 score_threshold: float = 0.85,
                 min_kernel_area: int = 16,
                 min_text_area: int = 16,
                 logit_stride: int = 4,
                 min_kernel_confidence: float = 0.5,
                 cuda_decode: str = 'host_expand',
                 poly_epsilon: Optional[float] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None) -> None:
        if text_repr_type not in ('quad', 'poly'):
            raise ValueError("PSEPostprocessor: text_repr_type must be 'quad' or 'poly', got "
                             f'{text_repr_type!r}')
        if min_kernel_area < 0 or min_text_area < 0:
            raise ValueError('PSEPostprocessor: min_kernel_area and min_text_area must be >= 0, '
                             f'got {min_kernel_area} and {min_text_area}')
        if logit_stride not in (2, 4, 8):
            raise ValueError(f'PSEPostprocessor: logit_stride must be 2, 4 or 8, got '
                             f'{logit_stride}')
        if cuda_decode not in CUDA_DECODE_PATHS:
            raise ValueError(f'PSEPostprocessor: cuda_decode must be one of {CUDA_DECODE_PATHS}, '
                             f'got {cuda_decode!r}')
        if poly_epsilon is not None and not 0 <= poly_epsilon < float('inf'):
            raise ValueError('PSEPostprocessor: poly_epsilon must be None or a finite number of '
                             f'pixels >= 0, got {poly_epsilon}')
        try:
            threshold = logit_threshold(min_kernel_confidence)
        except ValueError as error:
            raise ValueError(f'PSEPostprocessor: {error}') from None
        super().__init__(
            text_repr_type=text_repr_type,
            rescale_fields=list(rescale_fields),
            train_cfg=train_cfg,
            test_cfg=test_cfg)
        self.score_threshold = score_threshold
        self.min_kernel_area = int(min_kernel_area)
        self.min_text_area = int(min_text_area)
        self.logit_stride = logit_stride
        self.min_kernel_confidence = min_kernel_confidence
        self.logit_threshold = threshold
        self.cuda_decode = cuda_decode
        self.poly_epsilon = poly_epsilon

    def get_text_instances(self, pred_results: Tensor, data_sample, **kwargs):
        """Fill ``data_sample.pred_instances`` from one image's logits.

        Args:
            pred_results (Tensor): logits ``[K, h, w]`` float of one image (CPU or CUDA).
            data_sample (TextDetDataSample): its sample; ``img_shape`` (if set) is the
                un-padded input size to crop to.

        Returns:
            TextDetDataSample: ``data_sample`` with ``pred_instances.polygons`` (list of flat
            float32 arrays, input coordinates until :meth:`rescale`) and
            ``pred_instances.scores`` (Tensor[N] float32).
        """
        if pred_results.dim() != 3:
            raise ValueError('PSEPostprocessor: expected logits [K, h, w] per image, got '
                             f'{list(pred_results.shape)}')
        polygons, scores = self.decode(pred_results, data_sample.get('img_shape', None))
        pred_instances = InstanceData()
        pred_instances.polygons = polygons
        pred_instances.scores = torch.tensor(scores, dtype=torch.float32)
        data_sample.pred_instances = pred_instances
        return data_sample

    def decode(self,
               logits: Tensor,
               img_shape: Optional[Tuple[int, int]] = None) -> Tuple[List[np.ndarray], List[float]]:
        """Logits of one image → polygons and scores in input-pixel coordinates.

        Args:
            logits (Tensor): ``[K, h, w]`` float, channel 0 = text, K - 1 = smallest kernel.
            img_shape (tuple[int, int], optional): (H, W) of the un-padded input; default
                ``logit_stride × (h, w)``.

        Returns:
            tuple[list[np.ndarray], list[float]]: flat float32 polygons ``[x1, y1, …]`` and
            their mean scores, in label order.
        """
        logits = logits.detach().float()
        stride = self.logit_stride
        full_h, full_w = stride * logits.shape[1], stride * logits.shape[2]
        height, width = (full_h, full_w) if img_shape is None else (min(int(img_shape[0]), full_h),
                                                                    min(int(img_shape[1]), full_w))

        result = self.expand(logits, (height, width))

        # One host transfer for the statistics: area, score sum, box (exact in float64).
        stats = torch.cat([
            result.areas.double().unsqueeze(1),
            result.score_sums.unsqueeze(1),
            result.boxes.double()
        ],
                          dim=1).cpu().numpy()
        areas, score_sums, boxes = stats[:, 0], stats[:, 1], stats[:, 2:].astype(np.int64)
        mean_scores = score_sums / np.maximum(areas, 1)
        keep = np.flatnonzero((areas >= self.min_text_area) & (mean_scores >= self.score_threshold))
        if keep.size == 0:
            return [], []

        # Plain Python ints: slicing and OpenCV calls with NumPy scalars cost more per instance.
        kept_boxes = boxes[keep].tolist()
        crops = self._instance_crops(result.labels, kept_boxes)
        polygons = [
            self._mask_to_polygon((crop == index + 1).view(np.uint8), box[0], box[1])
            for index, box, crop in zip(keep.tolist(), kept_boxes, crops)
        ]
        return polygons, mean_scores[keep].tolist()

    def expand(self, logits: Tensor, out_size: Tuple[int, int]) -> PSEResult:
        """Instances of one image's logits by the path for their device (see the class doc).

        Args:
            logits (Tensor): ``[K, h, w]`` float32, on the CPU or an accelerator.
            out_size (tuple[int, int]): (H, W) <= ``logit_stride`` × (h, w) to label.

        Returns:
            PSEResult: label map and per-instance statistics (on the CPU, or on the logits'
            device for ``device_bfs``).
        """
        if logits.device.type == 'cpu':
            # Fused op: upsampling, thresholds and score sums row by row inside the expansion.
            return progressive_scale_expansion_from_logits(logits, self.logit_stride, out_size,
                                                           self.min_kernel_area,
                                                           self.logit_threshold)
        if self._device_path(logits.device) == 'device_bfs':
            return self.expand_on_device(logits, out_size)
        return self.expand_on_host(logits, out_size)

    def _device_path(self, device: torch.device) -> str:
        """``cuda_decode``, or ``'host_expand'`` (warned once) when the loaded extension has no
        expansion kernel for ``device``."""
        if self.cuda_decode == 'device_bfs' and not extension.has_kernel(
                'progressive_scale_expansion', device.type):
            extension.warn_once(
                f'PSEPostprocessor.device_bfs:{device.type}',
                f"PSEPostprocessor(cuda_decode='device_bfs'): mmpse_ext._C has no "
                f'{extension.dispatch_key(device.type)} kernel in this build, so logits on '
                f"{device} are decoded with cuda_decode='host_expand' (expansion on the CPU). "
                '`python tools/analysis_tools/collect_env.py` shows how the extension was built.')
            return 'host_expand'
        return self.cuda_decode

    def expand_on_host(self, logits: Tensor, out_size: Tuple[int, int]) -> PSEResult:
        """``host_expand``: masks made and bit-packed where the logits are, expansion on the CPU.

        Args:
            logits (Tensor): ``[K, h, w]`` float32, K <= 8, on any device.
            out_size (tuple[int, int]): (H, W) to label.

        Returns:
            PSEResult: on the CPU.
        """
        if logits.shape[0] > 8:
            raise ValueError('PSEPostprocessor: decoding on an accelerator packs the kernels '
                             f'into one byte per pixel, so K <= 8; got K = {logits.shape[0]}')
        masks = upsampled_kernel_masks(logits, self.logit_stride, out_size, self.logit_threshold)
        packed = pack_kernel_masks(masks).cpu()
        text_logits = logits.select(0, 0).cpu()
        return progressive_scale_expansion_packed(packed, logits.shape[0], text_logits,
                                                  self.logit_stride, self.min_kernel_area)

    def expand_on_device(self, logits: Tensor, out_size: Tuple[int, int]) -> PSEResult:
        """``device_bfs``: masks, score map and expansion on the logits' device.

        Args:
            logits (Tensor): ``[K, h, w]`` float32.
            out_size (tuple[int, int]): (H, W) to label.

        Returns:
            PSEResult: on the logits' device.
        """
        masks = upsampled_kernel_masks(logits, self.logit_stride, out_size, self.logit_threshold)
        score = upsampled_text_score(logits, self.logit_stride, out_size)
        return progressive_scale_expansion(masks, score, self.min_kernel_area)

    @staticmethod
    def _instance_crops(labels: Tensor, boxes: Sequence[Sequence[int]]) -> List[np.ndarray]:
        """Bounding-box crops of the label map, as host arrays.

        Args:
            labels (Tensor): ``[H, W]`` int32 label map (CPU or CUDA).
            boxes (Sequence[Sequence[int]]): M inclusive boxes ``x0, y0, x1, y1`` (a list of
                lists or an ``[M, 4]`` integer array).

        Returns:
            list[np.ndarray]: M int32 arrays ``[y1 - y0 + 1, x1 - x0 + 1]``.
        """
        if labels.device.type == 'cpu':
            label_map = labels.numpy()
            return [label_map[y0:y1 + 1, x0:x1 + 1] for x0, y0, x1, y1 in boxes]
        # On an accelerator: one gather and one transfer for all crops together.
        pieces = [
            labels.narrow(0, y0, y1 - y0 + 1).narrow(1, x0, x1 - x0 + 1).reshape(-1)
            for x0, y0, x1, y1 in boxes
        ]
        flat = torch.cat(pieces).cpu().numpy()
        sizes = [(y1 - y0 + 1, x1 - x0 + 1) for x0, y0, x1, y1 in boxes]
        offsets = np.cumsum([0] + [h * w for h, w in sizes])
        return [
            flat[start:start + h * w].reshape(h, w) for start, (h, w) in zip(offsets[:-1], sizes)
        ]

    def _mask_to_polygon(self, mask: np.ndarray, x0: int, y0: int) -> np.ndarray:
        """Polygon of one instance from its cropped uint8 mask.

        Args:
            mask (np.ndarray): ``[h, w]`` uint8 in {0, 1}, one 4-connected instance.
            x0 (int): column of the crop in the image.
            y0 (int): row of the crop in the image.

        Returns:
            np.ndarray: flat float32 ``[x1, y1, x2, y2, …]`` in image pixel coordinates.
        """
        # The offset moves the contour into image coordinates inside OpenCV.
        contours, _ = cv2.findContours(
            mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(int(x0), int(y0)))
        # One 4-connected instance has one outer contour; keep the longest to be safe.
        contour = contours[0] if len(contours) == 1 else max(contours, key=len)
        if self.text_repr_type == 'poly' and len(contour) >= 3:
            if self.poly_epsilon:
                simplified = cv2.approxPolyDP(contour, float(self.poly_epsilon), True)
                if len(simplified) >= 3:
                    contour = simplified
            return contour.reshape(-1).astype(np.float32)
        return cv2.boxPoints(cv2.minAreaRect(contour)).reshape(-1)

    def rescale(self, results, scale_factor: Sequence[float]):
        """Divide the polygons by ``scale_factor`` and clip them to the original image.

        Args:
            results (TextDetDataSample): sample with ``pred_instances`` in input coordinates.
            scale_factor (Sequence[float]): ``(w_scale, h_scale)`` of the test resize.

        Returns:
            TextDetDataSample: the same sample, polygons as float32 in ``ori_shape`` coordinates.
        """
        scale = np.asarray(scale_factor, dtype=np.float64)[:2]
        ori_shape = results.get('ori_shape', None)
        for key in self.rescale_fields:
            rescaled = []
            for polygon in results.pred_instances[key]:
                points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2) / scale
                if ori_shape is not None:
                    points[:, 0] = points[:, 0].clip(0, ori_shape[1])
                    points[:, 1] = points[:, 1].clip(0, ori_shape[0])
                rescaled.append(points.reshape(-1).astype(np.float32))
            results.pred_instances[key] = rescaled
        return results
