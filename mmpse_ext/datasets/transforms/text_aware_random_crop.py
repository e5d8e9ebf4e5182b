"""Random crop of image and PSE targets that favours windows containing text."""
from typing import Optional, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from ...registry import TRANSFORMS
from ._utils.instance_filter import keep_instances, polygons_to_bboxes

#: Per-pixel maps cropped together with the image.
MAP_KEYS = ('gt_kernels', 'gt_train_mask')
CROP_RANGES = ('paddle', 'overlap')


@TRANSFORMS.register_module()
class TextAwareRandomCrop(BaseTransform):
    """Crop ``crop_size`` from image and targets; with ``text_crop_prob`` make it meet text.

    PaddleOCR's ``RandomCropImgMask`` (``ppocr/data/imaug/random_crop_data.py``, docs/recipe.md).
    With probability ``text_crop_prob`` (5/8: Paddle's ``p = 3/8`` is the chance of the uniform
    draw) and when there is text, the window's start along each axis is drawn from a range
    derived from the text's extent ``[first, last]``; otherwise uniformly over the image.

    - ``crop_range='paddle'`` (default): ``[max(first - size, 0), min(max(last - size, 0),
      length - size)]``, and 0 when that range holds a single value, exactly as Paddle. Its
      windows end inside ``[first, last]``, so many of them only graze the text.
    - ``crop_range='overlap'``: uniform among the starts whose window overlaps
      ``[first, last]``, so the text-aware draw always shows text.

    No padding by default: if the image is smaller than the crop along an axis, that axis is
    kept whole — put ``MinShortSideResize`` (>= the crop size) before it (Paddle's recipe).
    ``pad=True`` is the official PSENet's ``random_crop_padding`` instead (its CTW1500 and
    Total-Text recipes scale the short side down to 0.7 x the crop): the window is padded at
    the bottom and right to ``crop_size`` with zeros in the image and in every map, the
    training mask included, so the padding is left out of the loss.

    The text extent comes from the text map ``gt_kernels[0]`` when targets were already made
    (Paddle's order: targets, then crop; Paddle's text map holds every polygon, ``###``
    included), else from the non-ignored polygons clipped to the image (cropping first and
    drawing the targets on the window is cheaper, and gives the same maps under
    ``PSETargets(rasterization='subpixel')``).

    Polygons are shifted by the crop offset but keep their vertices; instances whose box lies
    entirely outside the window are dropped.

    Required keys: ``img``, and ``gt_kernels`` or ``gt_polygons``/``gt_ignored``. Modified
    keys: ``img``, ``img_shape``, ``gt_kernels``, ``gt_train_mask`` (when present),
    ``gt_polygons``, ``gt_bboxes`` and the other per-instance keys. Added keys: ``crop_offset``
    (``(x, y)``).

    Args:
        crop_size (int | tuple[int, int]): ``(width, height)`` of the window (mmcv order).
        text_crop_prob (float): Probability of the text-aware draw.
        crop_range (str): ``'paddle'`` or ``'overlap'`` (above).
        pad (bool): Pad a smaller window to ``crop_size`` (above). Default False.
    """

    def __init__(self,
                 crop_size: Union[int, Tuple[int, int]] = 640,
                 text_crop_prob: float = 5.0 / 8.0,
                 crop_range: str = 'paddle',
                 pad: bool = False) -> None:
        crop_w, crop_h = (crop_size, crop_size) if isinstance(crop_size, int) else crop_size
        if crop_w <= 0 or crop_h <= 0:
            raise ValueError(f'crop_size must be positive, got {crop_size}')
        if not 0 <= text_crop_prob <= 1:
            raise ValueError(f'text_crop_prob must be in [0, 1], got {text_crop_prob}')
        if crop_range not in CROP_RANGES:
            raise ValueError(f'crop_range must be one of {CROP_RANGES}, got {crop_range!r}')
        self.crop_size = (int(crop_w), int(crop_h))
        self.text_crop_prob = float(text_crop_prob)
        self.crop_range = crop_range
        self.pad = bool(pad)

    @staticmethod
    def text_extent(results: dict) -> Optional[Tuple[int, int, int, int]]:
        """Inclusive pixel range ``(first_row, last_row, first_col, last_col)`` of the text,
        or None when there is no text in the image."""
        if 'gt_kernels' in results:
            text_map = results['gt_kernels'][0]
            rows = np.flatnonzero(text_map.any(axis=1))
            if not rows.size:
                return None
            cols = np.flatnonzero(text_map[rows[0]:rows[-1] + 1].any(axis=0))
            return rows[0], rows[-1], cols[0], cols[-1]
        h, w = results['img'].shape[:2]
        polygons = results.get('gt_polygons') or []
        ignored = results.get('gt_ignored', np.zeros(len(polygons), bool))
        extent = None
        for polygon, ignore in zip(polygons, ignored):
            if ignore:
                continue
            points = np.asarray(polygon, np.float64).reshape(-1, 2)
            # pixels whose centre (i + 0.5) lies in [min, max], clipped to the image
            c0, r0 = np.maximum(np.ceil(points.min(axis=0) - 0.5), 0).astype(int)
            c1, r1 = np.minimum(np.floor(points.max(axis=0) - 0.5), (w - 1, h - 1)).astype(int)
            if r0 > r1 or c0 > c1:
                continue
            extent = (r0, r1, c0,
                      c1) if extent is None else (min(extent[0], r0), max(extent[1], r1),
                                                  min(extent[2], c0), max(extent[3], c1))
        return extent

    @cache_randomness
    def _sample_offset(self, results: dict) -> Tuple[int, int]:
        """Top-left ``(x, y)`` of the window."""
        h, w = results['img'].shape[:2]
        crop_w, crop_h = min(self.crop_size[0], w), min(self.crop_size[1], h)
        if np.random.random_sample() < self.text_crop_prob:
            extent = self.text_extent(results)
            if extent is not None:
                first_row, last_row, first_col, last_col = extent
                start = self._paddle_start if self.crop_range == 'paddle' else \
                    self._overlapping_start
                y = start(first_row, last_row, crop_h, h)
                x = start(first_col, last_col, crop_w, w)
                return int(x), int(y)
        y = np.random.randint(0, h - crop_h + 1)
        x = np.random.randint(0, w - crop_w + 1)
        return int(x), int(y)

    @staticmethod
    def _paddle_start(first: int, last: int, size: int, length: int) -> int:
        """Paddle's draw: uniform in ``[max(first - size, 0), min(max(last - size, 0),
        length - size)]``, 0 unless that range holds more than one value."""
        low = max(first - size, 0)
        high = min(max(last - size, 0), length - size)
        return np.random.randint(low, high + 1) if low < high else 0

    @staticmethod
    def _overlapping_start(first: int, last: int, size: int, length: int) -> int:
        """A start in ``[0, length - size]`` whose window ``[s, s + size)`` meets
        ``[first, last]``, drawn uniformly."""
        low = max(first - size + 1, 0)
        high = min(last, length - size)
        return np.random.randint(low, high + 1)

    def transform(self, results: dict) -> dict:
        """Crop image, maps and annotations."""
        x, y = self._sample_offset(results)
        h, w = results['img'].shape[:2]
        crop_w, crop_h = min(self.crop_size[0], w), min(self.crop_size[1], h)
        results['img'] = results['img'][y:y + crop_h, x:x + crop_w]
        for key in MAP_KEYS:
            if key in results:
                # copy: a view would keep the whole-image maps alive in the sample
                results[key] = np.ascontiguousarray(results[key][..., y:y + crop_h, x:x + crop_w])
        results['img_shape'] = (crop_h, crop_w)
        results['crop_offset'] = (x, y)
        if self.pad and (crop_w, crop_h) != self.crop_size:
            self._pad_to_crop_size(results)
        if results.get('gt_polygons') is not None:
            shift = np.array([x, y], dtype=np.float32)
            polygons = [(np.asarray(p, np.float32).reshape(-1, 2) - shift).reshape(-1)
                        for p in results['gt_polygons']]
            results['gt_polygons'] = polygons
            boxes = polygons_to_bboxes(polygons)
            results['gt_bboxes'] = boxes
            keep_instances(results, (boxes[:, 2] > 0) & (boxes[:, 3] > 0) & (boxes[:, 0] < crop_w) &
                           (boxes[:, 1] < crop_h))
        return results

    def _pad_to_crop_size(self, results: dict) -> None:
        """Zero-pad image and maps at the bottom/right to ``crop_size`` (in place)."""
        pad_w, pad_h = self.crop_size
        img = results['img']
        padded = np.zeros((pad_h, pad_w) + img.shape[2:], img.dtype)
        padded[:img.shape[0], :img.shape[1]] = img
        results['img'] = padded
        for key in MAP_KEYS:
            if key in results:
                value = results[key]
                out = np.zeros(value.shape[:-2] + (pad_h, pad_w), value.dtype)
                out[..., :value.shape[-2], :value.shape[-1]] = value
                results[key] = out
        results['img_shape'] = (pad_h, pad_w)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(crop_size={self.crop_size}, ' \
               f'text_crop_prob={self.text_crop_prob}, crop_range={self.crop_range!r}, ' \
               f'pad={self.pad})'
