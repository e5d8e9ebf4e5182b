"""Random crop of image and PSE targets that favours windows containing text."""
from typing import Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from ...registry import TRANSFORMS
from .instance_filter import keep_instances, polygons_to_bboxes

#: Per-pixel maps cropped together with the image.
MAP_KEYS = ('gt_kernels', 'gt_train_mask')


@TRANSFORMS.register_module()
class TextAwareRandomCrop(BaseTransform):
    """Crop ``crop_size`` from image and targets; with ``text_crop_prob`` make it hit text.

    PSENet / PaddleOCR ``RandomCropImgMask`` (DESIGN.md §2). With probability
    ``text_crop_prob`` (5/8 in the recipe) and when the text map is not empty, the window's
    top-left corner is drawn uniformly among the positions whose window overlaps the text
    map's extent in both axes; otherwise uniformly over the image. (The reference draws from
    ``[min - size, max - size]``, whose windows often just touch the text; we keep its intent.)
    No padding: if the image is smaller than the crop along an axis, that axis is kept whole —
    put ``MinShortSideResize`` (>= the crop size) before the targets.

    Polygons are shifted by the crop offset but keep their vertices; instances whose box lies
    entirely outside the window are dropped.

    Required keys: ``img``, ``gt_kernels`` (``gt_kernels[0]`` is the text map). Modified keys:
    ``img``, ``img_shape``, ``gt_kernels``, ``gt_train_mask``, ``gt_polygons``, ``gt_bboxes``
    and the other per-instance keys. Added keys: ``crop_offset`` (``(x, y)``).

    Args:
        crop_size (int | tuple[int, int]): ``(width, height)`` of the window (mmcv order).
        text_crop_prob (float): Probability of the text-aware draw.
    """

    def __init__(self, crop_size: Union[int, Tuple[int, int]] = 640,
                 text_crop_prob: float = 5.0 / 8.0) -> None:
        crop_w, crop_h = (crop_size, crop_size) if isinstance(crop_size, int) else crop_size
        if crop_w <= 0 or crop_h <= 0:
            raise ValueError(f'crop_size must be positive, got {crop_size}')
        if not 0 <= text_crop_prob <= 1:
            raise ValueError(f'text_crop_prob must be in [0, 1], got {text_crop_prob}')
        self.crop_size = (int(crop_w), int(crop_h))
        self.text_crop_prob = float(text_crop_prob)

    @cache_randomness
    def _sample_offset(self, text_map: np.ndarray) -> Tuple[int, int]:
        """Top-left ``(x, y)`` of the window."""
        h, w = text_map.shape
        crop_w, crop_h = min(self.crop_size[0], w), min(self.crop_size[1], h)
        rows = np.flatnonzero(text_map.any(axis=1))
        if rows.size and np.random.random_sample() < self.text_crop_prob:
            cols = np.flatnonzero(text_map[rows[0]:rows[-1] + 1].any(axis=0))
            y = self._overlapping_start(rows[0], rows[-1], crop_h, h)
            x = self._overlapping_start(cols[0], cols[-1], crop_w, w)
        else:
            y = np.random.randint(0, h - crop_h + 1)
            x = np.random.randint(0, w - crop_w + 1)
        return int(x), int(y)

    @staticmethod
    def _overlapping_start(first: int, last: int, size: int, length: int) -> int:
        """A start in ``[0, length - size]`` whose window ``[s, s + size)`` meets
        ``[first, last]``, drawn uniformly."""
        low = max(first - size + 1, 0)
        high = min(last, length - size)
        return np.random.randint(low, high + 1)

    def transform(self, results: dict) -> dict:
        """Crop image, maps and annotations."""
        x, y = self._sample_offset(results['gt_kernels'][0])
        h, w = results['img'].shape[:2]
        crop_w, crop_h = min(self.crop_size[0], w), min(self.crop_size[1], h)
        results['img'] = results['img'][y:y + crop_h, x:x + crop_w]
        for key in MAP_KEYS:
            if key in results:
                # copy: a view would keep the whole-image maps alive in the sample
                results[key] = np.ascontiguousarray(results[key][..., y:y + crop_h, x:x + crop_w])
        results['img_shape'] = (crop_h, crop_w)
        results['crop_offset'] = (x, y)
        if results.get('gt_polygons') is not None:
            shift = np.array([x, y], dtype=np.float32)
            polygons = [(np.asarray(p, np.float32).reshape(-1, 2) - shift).reshape(-1)
                        for p in results['gt_polygons']]
            results['gt_polygons'] = polygons
            boxes = polygons_to_bboxes(polygons)
            results['gt_bboxes'] = boxes
            keep_instances(results, (boxes[:, 2] > 0) & (boxes[:, 3] > 0) &
                           (boxes[:, 0] < crop_w) & (boxes[:, 1] < crop_h))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(crop_size={self.crop_size}, ' \
               f'text_crop_prob={self.text_crop_prob})'
