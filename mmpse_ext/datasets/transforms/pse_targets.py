"""PSENet training targets: text map, shrunk kernels and training mask."""
from typing import List, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from shapely.geometry import Polygon

from ...registry import TRANSFORMS
from ._utils.polygon_raster import RASTERIZATIONS, PolygonRaster

SPLIT_PIECES = ('first', 'all')


def paddle_shrink_rates(kernel_num: int = 7, min_shrink_ratio: float = 0.4) -> Tuple[float, ...]:
    """The rates of PaddleOCR's ``MakePseGt``: ``1 - (1 - min) / (kernel_num - 1) * i``.

    ``i = 1 .. kernel_num``, computed with Paddle's float expression so the values are
    bit-identical: ``(0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)`` by default. The loss trains on the
    first ``kernel_num - 1`` of them; the last one only decides which polygons are ignored.
    """
    return tuple(1.0 - (1.0 - min_shrink_ratio) / (kernel_num - 1) * i
                 for i in range(1, kernel_num + 1))


def shrink_distance(area: float, perimeter: float, ratio: float) -> float:
    """PSENet's inward offset ``d = area * (1 - r²) / perimeter`` (pixels).

    Paddle adds 1e-6 to the perimeter; we do the same so degenerate inputs stay finite.
    """
    return area * (1 - ratio * ratio) / (perimeter + 1e-6)


@TRANSFORMS.register_module()
class PSETargets(BaseTransform):
    """Draw PSENet's ground truth on the current image size.

    The defaults are PaddleOCR's ``MakePseGt`` (``ppocr/data/imaug/make_pse_gt.py``), pixel for
    pixel: rates ``r_i`` from :func:`paddle_shrink_rates`; channel 0 (the text map) and channel
    1 are the 0.9 shrink, channels 2..6 the 0.8 … 0.4 shrinks; the 0.3 shrink is computed only
    for the ignore rule. Each polygon is shrunk by :func:`shrink_distance` with pyclipper and
    the first piece is filled; every polygon is drawn, ``###`` ones included, and the training
    mask zeroes the ignored ones (``gt_ignored``, and polygons whose shrink vanishes at any
    rate, the unused 0.3 one included). Overlapping instances are united in every channel.
    Where Paddle's code crashes (a shrink that splits into pieces with different vertex counts
    makes ``np.array`` raise) we keep the first piece, as Paddle does when the counts are equal.
    A polygon with fewer than 3 vertices is ignored; one with a non-finite vertex is ignored and
    drawn nowhere. The named arguments turn on the paper's / our choices (docs/recipe.md).

    Works on any image size and before or after a crop (polygons may extend past the image;
    drawing clips them). Under ``rasterization='paddle'`` the integer truncation makes the maps
    at a crop's left/top border depend on the order, so the recipe draws before cropping, as
    Paddle does.

    Required keys: ``img`` or ``img_shape`` (the canvas size), ``gt_polygons`` (list of flat
    float arrays ``[x1, y1, ...]``), ``gt_ignored`` (bool per polygon; optional, all False).
    Modified keys: ``gt_ignored`` (failed shrinks added). Added keys:

    - ``gt_kernels`` (ndarray[K, H, W], uint8 in {0, 1}): channel 0 = text map, 1..K-1 =
      kernels, largest → smallest (``K = kernel_num``).
    - ``gt_train_mask`` (ndarray[H, W], uint8 in {0, 1}): 0 = excluded from the loss.

    Args:
        kernel_num (int): Number of maps K (Paddle's ``kernel_num``, 7).
        min_shrink_ratio (float): Rate of the smallest trained kernel (Paddle's 0.4).
        full_text_map (bool): Paper / MMOCR: channel 0 is the whole polygon, so the expansion
            of the kernels can reach the word's border. Default False (Paddle: the 0.9 shrink).
        ignore_if_unused_rate_fails (bool): Paddle also ignores a polygon whose shrink vanishes
            at the extra, untrained rate (0.3). False: only the trained rates decide, so small
            words still teach the text map.
        draw_ignored (bool): Paddle draws ignored polygons into the text map and kernels (the
            mask removes them from the loss, but the crop's text search and image-wide OHEM
            see them). False: don't-care words are drawn in no channel.
        rasterization (str): ``'paddle'`` (integer truncation, Paddle's pixels) or
            ``'subpixel'`` (1/16-pixel vertices in mmocr's pixel convention: masks centred on
            the polygon instead of shifted by up to one pixel); see ``polygon_raster.py``.
        split_pieces (str): ``'first'`` (Paddle, official PSENet, MMOCR) keeps the first piece
            of a shrink that splits; ``'all'`` fills every piece, so a word narrowed in the
            middle keeps a kernel on both sides.
    """

    def __init__(self,
                 kernel_num: int = 7,
                 min_shrink_ratio: float = 0.4,
                 full_text_map: bool = False,
                 ignore_if_unused_rate_fails: bool = True,
                 draw_ignored: bool = True,
                 rasterization: str = 'paddle',
                 split_pieces: str = 'first') -> None:
        if int(kernel_num) != kernel_num or kernel_num < 2:
            raise ValueError(f'PSETargets: kernel_num must be an integer >= 2, got {kernel_num}')
        if not 0 < min_shrink_ratio < 1:
            raise ValueError(
                f'PSETargets: min_shrink_ratio must be in (0, 1), got {min_shrink_ratio}')
        if rasterization not in RASTERIZATIONS:
            raise ValueError(f'PSETargets: rasterization must be one of {RASTERIZATIONS}, '
                             f'got {rasterization!r}')
        if split_pieces not in SPLIT_PIECES:
            raise ValueError(f'PSETargets: split_pieces must be one of {SPLIT_PIECES}, '
                             f'got {split_pieces!r}')
        self.kernel_num = int(kernel_num)
        self.min_shrink_ratio = float(min_shrink_ratio)
        self.full_text_map = bool(full_text_map)
        self.ignore_if_unused_rate_fails = bool(ignore_if_unused_rate_fails)
        self.draw_ignored = bool(draw_ignored)
        self.rasterization = rasterization
        self.split_pieces = split_pieces
        self.raster = PolygonRaster(rasterization)
        rates = paddle_shrink_rates(self.kernel_num, self.min_shrink_ratio)
        # shrink rates computed per polygon: the K - 1 trained ones (+ the extra Paddle one)
        self.shrink_rates = rates if self.ignore_if_unused_rate_fails else rates[:-1]

    @property
    def channel_ratios(self) -> Tuple[float, ...]:
        """Shrink ratio drawn in each output channel (1.0 = the whole polygon)."""
        text = 1.0 if self.full_text_map else self.shrink_rates[0]
        return (text, *self.shrink_rates[:self.kernel_num - 1])

    @staticmethod
    def canvas_size(results: dict) -> Tuple[int, int]:
        """``(H, W)`` of the maps: the image's, or ``img_shape`` when there is no image."""
        if results.get('img') is not None:
            return tuple(results['img'].shape[:2])
        if results.get('img_shape') is None:
            raise KeyError('PSETargets: results need `img` or `img_shape` (the canvas size)')
        return tuple(int(v) for v in results['img_shape'][:2])

    def transform(self, results: dict) -> dict:
        """Add ``gt_kernels`` and ``gt_train_mask``; update ``gt_ignored``."""
        h, w = self.canvas_size(results)
        polygons = results.get('gt_polygons')
        polygons = [] if polygons is None else polygons
        ignored = results.get('gt_ignored')
        ignored = np.zeros(len(polygons), bool) if ignored is None else \
            np.array(ignored, dtype=bool).reshape(-1)
        if len(ignored) != len(polygons):
            raise ValueError(f'PSETargets: {len(polygons)} gt_polygons but {len(ignored)} '
                             'gt_ignored flags')
        kernels = np.zeros((self.kernel_num, h, w), dtype=np.uint8)
        mask = np.ones((h, w), dtype=np.uint8)
        for i, polygon in enumerate(polygons):
            points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
            if not np.isfinite(points).all():
                ignored[i] = True  # no pixel to draw or mask
                continue
            pieces_per_rate = None
            if self.draw_ignored or not ignored[i]:
                pieces_per_rate = self._shrink_all(points)
                if pieces_per_rate is None or not all(pieces_per_rate):
                    ignored[i] = True
            if pieces_per_rate is not None and (self.draw_ignored or not ignored[i]):
                self._draw(kernels, points, pieces_per_rate)
            if ignored[i] and len(points):
                self.raster.fill(mask, [self.raster.whole(points)], 0)
        results['gt_kernels'] = kernels
        results['gt_train_mask'] = mask
        results['gt_ignored'] = ignored
        return results

    def _shrink_all(self, points: np.ndarray) -> Optional[List[List[np.ndarray]]]:
        """The kept pieces at every rate of :attr:`shrink_rates` (an empty list where the
        shrink vanishes), or None when the polygon has fewer than 3 vertices."""
        if len(points) < 3:
            return None
        shape = Polygon(points)
        area, perimeter = shape.area, shape.length
        result = []
        for rate in self.shrink_rates:
            pieces = self.raster.shrink(points, shrink_distance(area, perimeter, rate))
            result.append(pieces[:1] if self.split_pieces == 'first' else pieces)
        return result

    def _draw(self, kernels: np.ndarray, points: np.ndarray,
              pieces_per_rate: List[List[np.ndarray]]) -> None:
        """Fill one polygon's text map and kernels (channel c >= 1 gets rate c - 1)."""
        text = [self.raster.whole(points)] if self.full_text_map else pieces_per_rate[0]
        self.raster.fill(kernels[0], text, 1)
        for channel in range(1, self.kernel_num):
            self.raster.fill(kernels[channel], pieces_per_rate[channel - 1], 1)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(kernel_num={self.kernel_num}, '
                f'min_shrink_ratio={self.min_shrink_ratio}, '
                f'full_text_map={self.full_text_map}, '
                f'ignore_if_unused_rate_fails={self.ignore_if_unused_rate_fails}, '
                f'draw_ignored={self.draw_ignored}, rasterization={self.rasterization!r}, '
                f'split_pieces={self.split_pieces!r})')
