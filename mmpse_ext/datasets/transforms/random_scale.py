"""Random isotropic rescaling by a factor drawn uniformly from a range."""
from typing import Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmocr.datasets.transforms import Resize

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomScale(BaseTransform):
    """Rescale image and annotations by one factor ``s ~ U(scale_range)`` for both sides.

    The PSENet recipe's ``Resize size=[0.5, 3]`` augmentation (docs/recipe.md). The resizing
    itself is mmocr's ``Resize(scale_factor=s)``, which also scales ``gt_polygons`` and
    ``gt_bboxes`` and records ``scale_factor``.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``, ``gt_polygons``,
    ``gt_bboxes``. Added keys: ``scale``, ``scale_factor``, ``keep_ratio``.

    Args:
        scale_range (tuple[float, float]): ``(low, high)``, ``0 < low <= high``.
        interpolation (str): mmcv interpolation name.
    """

    def __init__(self, scale_range: Tuple[float, float] = (0.5, 3.0),
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
        # clip_object_border=False: polygons keep their vertices (see RandomRotateKeepSize)
        resize = Resize(scale_factor=self._sample_scale(), keep_ratio=True,
                        clip_object_border=False, interpolation=self.interpolation)
        return resize(results)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(scale_range={self.scale_range}, ' \
               f'interpolation={self.interpolation!r})'
