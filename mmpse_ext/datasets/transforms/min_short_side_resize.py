"""Enlarge an image whose short side is below a minimum, optionally rounding to a divisor."""
from typing import Optional

import cv2
from mmcv.image.geometric import cv2_interp_codes
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from ._utils.exact_resize import resize_to
from ._utils.isotropic_resize import store_isotropic_resize


@TRANSFORMS.register_module()
class MinShortSideResize(BaseTransform):
    """Scale so the short side is at least ``min_short_side``; optionally round the sides.

    Two uses in the PSENet recipe (docs/recipe.md):

    - training, before target generation: ``MinShortSideResize(min_short_side=640)``, PaddleOCR's
      ``MakePseGt`` resize: an image whose short side is below 640 is scaled by
      ``s = 640 / short`` with ``cv2.resize(fx=s, fy=s)`` and the polygons and boxes are
      multiplied by ``s`` (``scale_factor = (s, s)``); larger images are untouched;
    - with ``size_divisor``, e.g. ``MinShortSideResize(min_short_side=736, size_divisor=32)``:
      enlarge to 736 if needed, then round *both* sides to the nearest multiple of 32 (at
      least 32), so the aspect ratio may change slightly; mmocr's ``Resize`` to that size
      records the realised ``scale_factor = (new_w / w, new_h / h)``. This was the recipe's
      test resize; the configs now use :class:`LimitSideResize` (``limit_type='min'``), which
      gives the same sizes and adds PaddleOCR's other rules and a network-input cap.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``, ``gt_polygons``,
    ``gt_bboxes``. Added keys: ``scale``, ``scale_factor``, ``keep_ratio``.

    Args:
        min_short_side (int): Minimum length of the shorter side after resizing.
        size_divisor (int, optional): Round both sides to a multiple of this.
        interpolation (str): mmcv interpolation name.
    """

    def __init__(self,
                 min_short_side: int = 640,
                 size_divisor: Optional[int] = None,
                 interpolation: str = 'bilinear') -> None:
        if int(min_short_side) <= 0:
            raise ValueError(f'min_short_side must be > 0, got {min_short_side}')
        if size_divisor is not None and int(size_divisor) <= 0:
            raise ValueError(f'size_divisor must be > 0 or None, got {size_divisor}')
        self.min_short_side = int(min_short_side)
        self.size_divisor = None if size_divisor is None else int(size_divisor)
        self.interpolation = interpolation

    def target_size(self, height: int, width: int):
        """Output ``(width, height)`` for an input of ``height x width``."""
        short = min(height, width)
        ratio = self.min_short_side / short if short < self.min_short_side else 1.0
        new_w, new_h = int(width * ratio + 0.5), int(height * ratio + 0.5)
        if self.size_divisor:
            d = self.size_divisor
            new_w = max(int(round(new_w / d)) * d, d)
            new_h = max(int(round(new_h / d)) * d, d)
        return new_w, new_h

    def transform(self, results: dict) -> dict:
        """Resize (possibly by 1.0, which still records ``scale_factor``)."""
        height, width = results['img'].shape[:2]
        new_w, new_h = self.target_size(height, width)
        if self.size_divisor is None and (new_w, new_h) != (width, height):
            return self._scale_by_factor(results, self.min_short_side / min(height, width))
        return resize_to(results, new_w, new_h, self.interpolation)

    def _scale_by_factor(self, results: dict, factor: float) -> dict:
        """Paddle's ``MakePseGt`` enlargement: one factor for the image and the annotations."""
        img = cv2.resize(
            results['img'],
            None,
            fx=factor,
            fy=factor,
            interpolation=cv2_interp_codes[self.interpolation])
        return store_isotropic_resize(results, img, factor)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(min_short_side={self.min_short_side}, '
                f'size_divisor={self.size_divisor}, interpolation={self.interpolation!r})')
