"""Warp a rendered text line into the scene: perspective quads or a circular arc."""
from typing import List, NamedTuple, Tuple

import cv2
import numpy as np

from .text_line import RenderedLine


class Placement(NamedTuple):
    """A warped line, cut to a region of interest of the scene.

    Attributes:
        roi (tuple[int, int, int, int]): ``x0, y0, x1, y1`` of the region in the scene.
        fill (ndarray[h, w], float32): Text body coverage in [0, 1] over the region.
        outline (ndarray[h, w], float32): Outline coverage in [0, 1] over the region.
        word_polygons (list[ndarray[N, 2], float64]): Per-word polygons in scene coordinates
            (4 points for quads, ``2 * samples`` for arcs), clockwise from the top-left.
        plate (ndarray[M, 2], float64): The line box grown by ``plate_margin``, warped the same
            way (a sign board drawn behind the text, and the area kept free of other text).
    """
    roi: Tuple[int, int, int, int]
    fill: np.ndarray
    outline: np.ndarray
    word_polygons: List[np.ndarray]
    plate: np.ndarray


def _grow_box(box, margin):
    x0, y0, x1, y1 = box
    return (x0 - margin, y0 - margin, x1 + margin, y1 + margin)


def _box_corners(box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def _roi_of(points: np.ndarray, height: int, width: int):
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + 2
    return max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)


def place_quad(line: RenderedLine, center, angle_deg: float, keystone: Tuple[float, float],
               jitter: np.ndarray, scene_hw: Tuple[int, int], plate_margin: float) -> Placement:
    """Map the line box onto a rotated, perspective-distorted quadrilateral.

    Args:
        line (RenderedLine): The flat line.
        center (tuple[float, float]): Scene position of the line box centre.
        angle_deg (float): Rotation, counter-clockwise on screen.
        keystone (tuple[float, float]): Height factors of the left and right ends (perspective
            foreshortening; ``(1, 1)`` = none).
        jitter (ndarray[4, 2]): Extra corner offsets in pixels (TL, TR, BR, BL).
        scene_hw (tuple[int, int]): Scene ``(height, width)``.
        plate_margin (float): Margin of the plate around the line box, in patch pixels.

    Returns:
        Placement: the warped line.
    """
    x0, y0, x1, y1 = line.line_box
    w, h = x1 - x0, y1 - y0
    left, right = keystone
    local = np.array([[-w / 2, -h * left / 2], [w / 2, -h * right / 2], [w / 2, h * right / 2],
                      [-w / 2, h * left / 2]]) + jitter
    theta = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    dst = local @ rot.T + np.asarray(center, np.float64)
    homography = cv2.getPerspectiveTransform(
        _box_corners(line.line_box).astype(np.float32), dst.astype(np.float32))

    def apply(points):
        return cv2.perspectiveTransform(points.reshape(-1, 1, 2), homography).reshape(-1, 2)

    patch_h, patch_w = line.fill.shape
    plate = apply(_box_corners(_grow_box(line.line_box, plate_margin)))
    roi = _roi_of(np.vstack([apply(_box_corners((0, 0, patch_w, patch_h))), plate]), *scene_hw)
    # OpenCV samples at pixel indices; our coordinates put pixel centres at +0.5
    to_index = np.array([[1, 0, -roi[0] - 0.5], [0, 1, -roi[1] - 0.5], [0, 0, 1]], np.float64)
    from_index = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]], np.float64)
    size = (roi[2] - roi[0], roi[3] - roi[1])
    warp = to_index @ homography @ from_index

    def warp_alpha(alpha):
        if size[0] <= 0 or size[1] <= 0:
            return np.zeros((max(size[1], 0), max(size[0], 0)), np.float32)
        return cv2.warpPerspective(
            alpha, warp, size, flags=cv2.INTER_LINEAR).astype(np.float32) / 255.0

    words = [apply(_box_corners(box)) for box in line.word_boxes]
    return Placement(roi, warp_alpha(line.fill), warp_alpha(line.outline), words, plate)


def place_arc(line: RenderedLine,
              center,
              angle_deg: float,
              radius: float,
              frown: bool,
              scene_hw: Tuple[int, int],
              plate_margin: float,
              samples: int = 7) -> Placement:
    """Bend the line along a circular arc of the given radius (at the line's mid-height).

    ``frown=True`` bends like an arch (centre of the circle below the text), else like a smile.
    Word polygons sample ``samples`` points along the top and the bottom of each word box.

    Args:
        line (RenderedLine): The flat line.
        center (tuple[float, float]): Scene position of the line box centre.
        angle_deg (float): Rotation of the whole arc, counter-clockwise on screen.
        radius (float): Arc radius in pixels; must exceed the half line height + margin.
        frown (bool): Arch (True) or smile (False).
        scene_hw (tuple[int, int]): Scene ``(height, width)``.
        plate_margin (float): Margin of the plate around the line box.
        samples (int): Points per long side of each word polygon.

    Returns:
        Placement: the warped line.
    """
    x0, y0, x1, y1 = line.line_box
    mid_u, mid_v = (x0 + x1) / 2, (y0 + y1) / 2
    sign = 1.0 if frown else -1.0
    theta = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    center = np.asarray(center, np.float64)

    def forward(u, v):
        """Patch (u, v) → scene (x, y)."""
        r = radius - sign * (v - mid_v)
        alpha = (u - mid_u) / radius
        q = np.stack([r * np.sin(alpha), -sign * r * np.cos(alpha) + sign * radius], axis=-1)
        return q @ rot.T + center

    def box_outline(box, n):
        bx0, by0, bx1, by1 = box
        us = np.linspace(bx0, bx1, n)
        top = forward(us, np.full(n, by0))
        bottom = forward(us[::-1], np.full(n, by1))
        return np.vstack([top, bottom])

    patch_h, patch_w = line.fill.shape
    plate = box_outline(_grow_box(line.line_box, plate_margin), 16)
    roi = _roi_of(np.vstack([box_outline((0, 0, patch_w, patch_h), 24), plate]), *scene_hw)
    xs, ys = np.meshgrid(
        np.arange(roi[0], roi[2], dtype=np.float64) + 0.5,
        np.arange(roi[1], roi[3], dtype=np.float64) + 0.5)
    q = np.stack([xs - center[0], ys - center[1]], axis=-1) @ rot  # inverse rotation
    qx, qy = q[..., 0], q[..., 1] - sign * radius
    r = np.hypot(qx, qy)
    alpha = np.arctan2(qx, -sign * qy)
    map_u = (mid_u + alpha * radius - 0.5).astype(np.float32)
    map_v = (mid_v + sign * (radius - r) - 0.5).astype(np.float32)

    def warp_alpha(img):
        if map_u.size == 0:
            return np.zeros(map_u.shape, np.float32)
        return cv2.remap(
            img, map_u, map_v, cv2.INTER_LINEAR, borderValue=0).astype(np.float32) / 255.0

    words = [box_outline(box, samples) for box in line.word_boxes]
    return Placement(roi, warp_alpha(line.fill), warp_alpha(line.outline), words, plate)
