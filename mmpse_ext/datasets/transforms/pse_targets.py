"""PSENet training targets: text map, shrunk kernels and training mask, made in the workers."""
from typing import List, Sequence, Tuple

import numpy as np
import pyclipper
from mmcv.transforms import BaseTransform
from shapely.geometry import Polygon

from ...registry import TRANSFORMS
from .polygon_raster import SUBPIXELS, fill_fixed_point_polygons, fill_polygons, to_fixed_point

#: Paper / MMOCR: full polygon for the text map, then 0.9 … 0.4 for the six kernels.
PAPER_SHRINK_RATIOS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4)


def paddle_shrink_ratios(kernel_num: int = 7, min_shrink_ratio: float = 0.4) -> Tuple[float, ...]:
    """The ratios PaddleOCR's ``MakePseGt`` + ``PSELoss`` effectively train on.

    ``MakePseGt`` draws ``r_i = 1 - (1 - min) / (kernel_num - 1) * i`` for ``i = 1..kernel_num``
    and uses map 1 (0.9) as the text map; ``PSELoss`` compares head channel ``1 + j`` with map
    ``j + 1``, so kernel channels 1..6 get 0.9 … 0.4 and the smallest map (0.3) is unused.
    Computed with Paddle's float expression so the values are bit-identical.

    Returns:
        tuple[float, ...]: ``kernel_num`` ratios for channels 0 (text) … ``kernel_num - 1``,
        ``(0.9, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4)`` by default.
    """
    rates = [1.0 - (1.0 - min_shrink_ratio) / (kernel_num - 1) * i
             for i in range(1, kernel_num + 1)]
    return (rates[0], *rates[:kernel_num - 1])


def shrink_distance(area: float, perimeter: float, ratio: float) -> float:
    """PSENet's inward offset ``d = area * (1 - r²) / perimeter`` (pixels).

    Paddle adds 1e-6 to the perimeter; we do the same so degenerate inputs stay finite.
    """
    return area * (1.0 - ratio * ratio) / (perimeter + 1e-6)


def shrink_polygon(points: np.ndarray, distance: float) -> List[np.ndarray]:
    """Offset a polygon inwards by ``distance`` with round joins (pyclipper, like the paper).

    Works at 1/16 pixel precision (pyclipper is integer-only).

    Args:
        points (ndarray[N, 2], float): Polygon vertices in continuous coordinates.
        distance (float): Inward offset in pixels (> 0).

    Returns:
        list[ndarray[M, 2] int32]: Shrunk pieces in :func:`to_fixed_point` coordinates (may be
        several for a dumbbell shape; empty when the polygon vanishes).
    """
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(to_fixed_point(points).tolist(), pyclipper.JT_ROUND,
                   pyclipper.ET_CLOSEDPOLYGON)
    pieces = offset.Execute(-distance * SUBPIXELS)
    return [np.asarray(p, dtype=np.int32) for p in pieces if len(p) >= 3]


@TRANSFORMS.register_module()
class PSETargets(BaseTransform):
    """Draw PSENet's ground truth (DESIGN.md §2) on the current image size.

    For each non-ignored polygon and each ratio ``r`` in ``shrink_ratios`` the polygon is
    shrunk by :func:`shrink_distance` and filled into channel ``k``; ``r = 1`` draws the polygon
    itself. A polygon whose shrink vanishes at some ratio becomes ignored, like PaddleOCR's
    ``MakePseGt`` (shrinking works at 1/16 pixel, so this only happens to near-zero-area
    polygons, e.g. a tiny word after a 0.5x scale; Paddle's integer offsets also drop words about
    one pixel thick). Ignored polygons (``###``, ``*``, failed shrink, self-intersecting at load)
    are drawn in no channel and zeroed in the training mask. Overlapping instances are simply
    united in every channel. Works before or after :class:`TextAwareRandomCrop` (polygons may
    extend past the image; drawing clips them).

    Required keys: ``img``, ``gt_polygons``, ``gt_ignored``. Modified keys: ``gt_ignored``
    (failed shrinks). Added keys:

    - ``gt_kernels`` (ndarray[K, H, W], uint8 in {0, 1}): channel 0 = text map, 1..K-1 =
      kernels, largest → smallest (``K = len(shrink_ratios)``).
    - ``gt_train_mask`` (ndarray[H, W], uint8 in {0, 1}): 0 = excluded from the loss.

    Args:
        shrink_ratios (Sequence[float]): One ratio per channel, non-increasing, in (0, 1].
            :data:`PAPER_SHRINK_RATIOS` (default) or :func:`paddle_shrink_ratios`.
    """

    def __init__(self, shrink_ratios: Sequence[float] = PAPER_SHRINK_RATIOS) -> None:
        ratios = tuple(float(r) for r in shrink_ratios)
        if not ratios or not all(0 < r <= 1 for r in ratios):
            raise ValueError(f'shrink_ratios must be non-empty and in (0, 1], got {ratios}')
        if any(b > a for a, b in zip(ratios, ratios[1:])):
            raise ValueError(f'shrink_ratios must be non-increasing (text map first), got {ratios}')
        self.shrink_ratios = ratios

    def transform(self, results: dict) -> dict:
        """Add ``gt_kernels`` and ``gt_train_mask``."""
        h, w = results['img'].shape[:2]
        polygons = results.get('gt_polygons', [])
        ignored = np.array(results.get('gt_ignored', np.zeros(len(polygons), bool)), dtype=bool)
        kernels = np.zeros((len(self.shrink_ratios), h, w), dtype=np.uint8)
        mask = np.ones((h, w), dtype=np.uint8)
        for i, polygon in enumerate(polygons):
            points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
            pieces_per_ratio = None if ignored[i] else self._shrink_all(points)
            if pieces_per_ratio is None:
                ignored[i] = True
                fill_polygons(mask, [points], 0)
                continue
            for k, pieces in enumerate(pieces_per_ratio):
                fill_fixed_point_polygons(kernels[k], pieces, 1)
        results['gt_kernels'] = kernels
        results['gt_train_mask'] = mask
        if len(polygons):
            results['gt_ignored'] = ignored
        return results

    def _shrink_all(self, points: np.ndarray):
        """Fixed-point pieces for every ratio, or None if the polygon vanishes at one."""
        if len(points) < 3:
            return None
        shape = Polygon(points)
        area, perimeter = shape.area, shape.length
        result = []
        for ratio in self.shrink_ratios:
            if ratio == 1.0:
                result.append([to_fixed_point(points)])
                continue
            pieces = shrink_polygon(points, shrink_distance(area, perimeter, ratio))
            if not pieces:
                return None
            result.append(pieces)
        return result

    def __repr__(self) -> str:
        return f'{type(self).__name__}(shrink_ratios={self.shrink_ratios})'
