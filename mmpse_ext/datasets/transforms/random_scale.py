"""Random isotropic rescaling by a factor drawn uniformly from a range."""
from typing import Tuple

import cv2
import numpy as np
from mmcv.image.geometric import cv2_interp_codes
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from ...registry import TRANSFORMS
from ._utils.isotropic_resize import store_isotropic_resize


@TRANSFORMS.register_module()
class RandomScale(BaseTransform):
    """Rescale image and annotations by one factor ``s ~ U(scale_range)`` for both sides.

    The PSENet recipe's ``IaaAugment Resize size=[0.5, 3]`` (docs/recipe.md), as PaddleOCR's
    ``ImgaugLikeResize`` (``ppocr/data/imaug/iaa_augment.py``) does it: the image becomes
    ``int(w * s) x int(h * s)`` (``cv2.resize``), polygons and boxes are multiplied by ``s``,
    and ``scale_factor = (s, s)``. Polygons keep every vertex (nothing is clipped).

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``, ``gt_polygons``,
    ``gt_bboxes``. Added keys: ``scale``, ``scale_factor``, ``keep_ratio``.

    Args:
        scale_range (tuple[float, float]): ``(low, high)``, ``0 < low <= high``.
        interpolation (str): mmcv interpolation name.
    """

    def __init__(self,
                 scale_range: Tuple[float, float] = (0.5, 3.0),
                 interpolation: str = 'bilinear') -> None:
        low, high = scale_range
        if not 0 < low <= high:
            raise ValueError(f'scale_range must satisfy 0 < low <= high, got {scale_range}')
        self.scale_range = (float(low), float(high))
        self.interpolation = interpolation

    @cache_randomness
    def _sample_scale(self) -> float:
        return float(np.random.uniform(*self.scale_range))

    def transform(self, results: dict) -> dict:
        """Resize by a freshly sampled factor."""
        factor = self._sample_scale()
        height, width = results['img'].shape[:2]
        size = (max(int(width * factor), 1), max(int(height * factor), 1))
        img = cv2.resize(results['img'], size, interpolation=cv2_interp_codes[self.interpolation])
        return store_isotropic_resize(results, img, factor)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(scale_range={self.scale_range}, ' \
               f'interpolation={self.interpolation!r})'
