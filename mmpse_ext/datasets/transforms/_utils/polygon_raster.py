"""Polygon shrinking and filling for the PSE targets, in two coordinate conventions.

``'paddle'`` (PaddleOCR's ``MakePseGt``, the recipe's default): the coordinates are used as
they are. pyclipper receives the float vertices (it truncates them to integers), its integer
output is filled with ``cv2.fillPoly``, and a full polygon is filled from its vertices cast to
int32 (truncation toward zero). A filled mask therefore sits up to one pixel right of / below
the polygon, by an amount that depends on the fractional part of each vertex.

``'subpixel'`` (ours): mmocr/mmcv treat pixel ``(col, row)`` as the square
``[col, col + 1) x [row, row + 1)`` (flip is ``w - x``, resize multiplies by the scale), i.e.
its centre is at ``(col + 0.5, row + 0.5)``. Vertices are shifted by half a pixel into OpenCV's
pixel-index coordinates and kept at 1/16 pixel (``cv2.fillPoly(shift=4)``, pyclipper on the
same fixed-point integers). ``cv2.fillPoly`` rounds both ends of each span and fills them
inclusively, so a mask is the polygon grown by about half a pixel on every side, centred on it.

See docs/recipe.md (targets) for where each convention is used.
"""
from typing import List, Sequence

import cv2
import numpy as np
import pyclipper

#: Fractional bits given to ``cv2.fillPoly`` in the sub-pixel convention (1/16 pixel).
SHIFT_BITS = 4
SUBPIXELS = 1 << SHIFT_BITS

RASTERIZATIONS = ('paddle', 'subpixel')


def to_fixed_point(points: np.ndarray) -> np.ndarray:
    """Continuous coordinates → int32 fixed-point pixel-centre coordinates for cv2.

    Args:
        points (ndarray[N, 2] or [2N], float): ``x, y`` in pixels.

    Returns:
        ndarray[N, 2], int32: ``round((p - 0.5) * 16)``.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return np.round((points - 0.5) * SUBPIXELS).astype(np.int32)


def fill_polygons(canvas: np.ndarray, polygons: Sequence[np.ndarray], value: int) -> np.ndarray:
    """Fill polygons given in continuous coordinates into ``canvas`` (sub-pixel, in place).

    Args:
        canvas (ndarray[H, W], uint8): Drawing target.
        polygons (Sequence[ndarray]): Each ``[x1, y1, x2, y2, ...]`` or ``[[x, y], ...]``.
        value (int): Fill value.

    Returns:
        ndarray[H, W], uint8: ``canvas``.
    """
    if len(polygons):
        cv2.fillPoly(
            canvas, [to_fixed_point(p) for p in polygons],
            int(value),
            lineType=cv2.LINE_8,
            shift=SHIFT_BITS)
    return canvas


class PolygonRaster:
    """Shrink and fill polygons in one of :data:`RASTERIZATIONS`.

    Every method takes vertices as ``ndarray[N, 2]`` float64 in the transform's coordinates and
    works with "pieces": int32 ``[M, 2]`` arrays in the convention's integer coordinates, ready
    for :meth:`fill`.

    Args:
        rasterization (str): ``'paddle'`` or ``'subpixel'`` (module docstring).
    """

    def __init__(self, rasterization: str = 'paddle') -> None:
        if rasterization not in RASTERIZATIONS:
            raise ValueError(f'rasterization must be one of {RASTERIZATIONS}, '
                             f'got {rasterization!r}')
        self.rasterization = rasterization
        self._scale = 1.0 if rasterization == 'paddle' else float(SUBPIXELS)
        self._shift = 0 if rasterization == 'paddle' else SHIFT_BITS

    def whole(self, points: np.ndarray) -> np.ndarray:
        """The polygon itself as a piece (Paddle: ``points.astype(np.int32)``)."""
        if self.rasterization == 'paddle':
            return points.astype(np.int32)
        return to_fixed_point(points)

    def shrink(self, points: np.ndarray, distance: float) -> List[np.ndarray]:
        """Offset inwards by ``distance`` pixels with round joins (pyclipper).

        Returns:
            list[ndarray[M, 2] int32]: the pieces in pyclipper's order (several when the shrink
            splits the polygon, none when it vanishes).
        """
        offset = pyclipper.PyclipperOffset()
        if self.rasterization == 'paddle':
            # Paddle hands pyclipper the float vertices and lets it convert them
            path = [tuple(p) for p in points.tolist()]
        else:
            path = to_fixed_point(points).tolist()
        offset.AddPath(path, pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
        pieces = offset.Execute(-distance * self._scale)
        return [np.asarray(p, dtype=np.int32).reshape(-1, 2) for p in pieces if len(p)]

    def fill(self, canvas: np.ndarray, pieces: Sequence[np.ndarray], value: int) -> np.ndarray:
        """Fill pieces into ``canvas`` (in place; pixels outside the canvas are clipped)."""
        if len(pieces):
            cv2.fillPoly(canvas, list(pieces), int(value), lineType=cv2.LINE_8, shift=self._shift)
        return canvas
