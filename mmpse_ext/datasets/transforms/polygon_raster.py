"""Sub-pixel polygon rasterisation in mmocr's continuous pixel coordinates.

mmocr/mmcv treat pixel ``(col, row)`` as the square ``[col, col + 1) x [row, row + 1)`` (flip is
``w - x``, resize multiplies by the scale), i.e. its centre is at ``(col + 0.5, row + 0.5)``. We
shift by half a pixel into OpenCV's pixel-index coordinates and draw with fixed-point vertices
instead of truncating them to integers (truncation moves masks by up to 1 px, direction-
dependent). ``cv2.fillPoly`` rounds both ends of each span and fills them inclusively, so the
result is the polygon grown by about half a pixel on every side, centred on it (a w x h
rectangle fills about (w + 1) x (h + 1) pixels, like PaddleOCR's integer ``fillPoly``).
"""
from typing import Sequence

import cv2
import numpy as np

#: Fractional bits given to ``cv2.fillPoly`` (1/16 pixel).
SHIFT_BITS = 4
SUBPIXELS = 1 << SHIFT_BITS


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
    """Fill polygons given in continuous coordinates into ``canvas`` (in place).

    Args:
        canvas (ndarray[H, W], uint8): Drawing target.
        polygons (Sequence[ndarray]): Each ``[x1, y1, x2, y2, ...]`` or ``[[x, y], ...]``.
        value (int): Fill value.

    Returns:
        ndarray[H, W], uint8: ``canvas``.
    """
    if len(polygons):
        cv2.fillPoly(canvas, [to_fixed_point(p) for p in polygons], int(value),
                     lineType=cv2.LINE_8, shift=SHIFT_BITS)
    return canvas


def fill_fixed_point_polygons(canvas: np.ndarray, polygons: Sequence[np.ndarray],
                              value: int) -> np.ndarray:
    """Like :func:`fill_polygons` for polygons already made by :func:`to_fixed_point`."""
    if len(polygons):
        cv2.fillPoly(canvas, list(polygons), int(value), lineType=cv2.LINE_8, shift=SHIFT_BITS)
    return canvas
