"""Compose one synthetic incidental-text scene with its ground truth."""
from dataclasses import dataclass
from typing import List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
from shapely.geometry import Polygon

from .backgrounds import draw_clutter, make_background, random_color
from .text_line import render_line
from .text_placement import Placement, place_arc, place_quad
from .vocabulary import random_word


class TextRegion(NamedTuple):
    """One annotated word.

    Attributes:
        points (ndarray[N, 2], float64): Polygon, clockwise from the top-left (N = 4 for
            quads, more for curved words).
        text (str): Transcription; ``'###'`` for don't-care regions.
    """
    points: np.ndarray
    text: str


@dataclass
class SceneConfig:
    """Knobs of :func:`make_scene` (defaults give a clearly learnable but varied set).

    Attributes:
        lines_per_megapixel (float): Mean number of text lines per 10⁶ px (at least 2 lines).
        min_text_height (int): Smallest legible word height in pixels.
        max_text_height_ratio (float): Largest word height as a fraction of the short side.
        curved_prob, touching_prob, dont_care_prob (float): Probabilities of a curved line,
            a line of touching words, a ``###`` line; the rest are straight/perspective lines.
        plate_prob (float): Probability of a sign board behind a straight line.
        max_angle (float): Largest in-plane rotation of a line (degrees).
        min_contrast (float): Minimum luminance difference between text and background (0-255).
    """
    lines_per_megapixel: float = 30.0
    min_text_height: int = 14
    max_text_height_ratio: float = 0.16
    curved_prob: float = 0.12
    touching_prob: float = 0.15
    dont_care_prob: float = 0.15
    plate_prob: float = 0.3
    max_angle: float = 30.0
    min_contrast: float = 90.0


def _luminance(bgr) -> float:
    return float(0.114 * bgr[0] + 0.587 * bgr[1] + 0.299 * bgr[2])


def _contrasting_color(rng, background_luma: float, min_contrast: float) -> np.ndarray:
    """A colour whose luminance differs from ``background_luma`` by >= ``min_contrast``
    (when possible), mostly light-on-dark or dark-on-light with some saturation."""
    for _ in range(20):
        color = random_color(rng)
        if rng.random() < 0.5:  # greyish text is frequent on signs
            color = np.full(3, color.mean(), np.float32) + rng.normal(0, 15, 3)
        color = np.clip(color, 0, 255)
        if abs(_luminance(color) - background_luma) >= min_contrast:
            return color
    return np.full(3, 0.0 if background_luma > 127 else 255.0, np.float32)


def _blend(img: np.ndarray, roi, alpha: np.ndarray, color: np.ndarray) -> None:
    """``img = img * (1 - alpha) + color * alpha`` inside ``roi`` (in place)."""
    x0, y0, x1, y1 = roi
    region = img[y0:y1, x0:x1].astype(np.float32)
    a = alpha[..., None]
    img[y0:y1, x0:x1] = np.clip(region * (1 - a) + color * a, 0, 255).astype(np.uint8)


def _fits(polygons: Sequence[np.ndarray], occupancy: np.ndarray, margin: float) -> bool:
    """All polygons inside the image (with a margin), valid, and off occupied pixels."""
    h, w = occupancy.shape
    for points in polygons:
        if (points.min(axis=0) < margin).any() or points[:, 0].max() > w - margin or \
                points[:, 1].max() > h - margin:
            return False
        if not Polygon(points).is_valid:
            return False
    probe = np.zeros_like(occupancy)
    cv2.fillPoly(probe, [np.round(p).astype(np.int32) for p in polygons], 1)
    return not np.any(probe & occupancy)


def _occupy(occupancy: np.ndarray, polygon: np.ndarray, gap: int) -> None:
    """Mark a polygon and a ``gap``-pixel band around it as used."""
    pts = [np.round(polygon).astype(np.int32)]
    cv2.fillPoly(occupancy, pts, 1)
    cv2.polylines(occupancy, pts, True, 1, thickness=2 * gap + 1)


def _place_line(rng, kind: str, words: List[str], font: str, height: int, scene_hw,
                cfg: SceneConfig) -> Tuple[Placement, float]:
    """Render and warp one line; returns the placement and the plate margin used."""
    touching = kind == 'touching'
    gap = 0.0 if touching else height * rng.uniform(0.25, 0.5)
    stroke = int(rng.integers(1, max(2, height // 12) + 1)) if rng.random() < 0.2 else 0
    line = render_line(words, font, height, gap, stroke=stroke)
    plate_margin = 0.35 * height
    h, w = scene_hw
    line_w = line.line_box[2] - line.line_box[0]
    center = (rng.uniform(0, w), rng.uniform(0, h))
    angle = rng.uniform(-cfg.max_angle, cfg.max_angle) if rng.random() < 0.7 else \
        rng.uniform(-4, 4)
    if kind == 'curved':
        radius = line_w / rng.uniform(0.5, 1.4)
        radius = max(radius, 2.5 * height)
        return place_arc(
            line,
            center,
            angle,
            radius,
            frown=bool(rng.random() < 0.5),
            scene_hw=scene_hw,
            plate_margin=plate_margin), plate_margin
    keystone = (1.0, 1.0)
    if rng.random() < 0.5:  # perspective: one end farther away than the other
        k = rng.uniform(0.6, 1.0)
        keystone = (k, 1.0) if rng.random() < 0.5 else (1.0, k)
    jitter = rng.normal(0, 0.06 * height, size=(4, 2)) if rng.random() < 0.5 else np.zeros((4, 2))
    return place_quad(line, center, angle, keystone, jitter, scene_hw, plate_margin), plate_margin


def make_scene(rng: np.random.Generator,
               height: int,
               width: int,
               fonts: Sequence[str],
               cfg: Optional[SceneConfig] = None) -> Tuple[np.ndarray, List[TextRegion]]:
    """Draw a textured scene with words (straight, perspective, curved, touching, ``###``).

    Args:
        rng (np.random.Generator): All randomness comes from here (deterministic per seed).
        height, width (int): Image size.
        fonts (Sequence[str]): TrueType files to draw with.
        cfg (SceneConfig, optional): Knobs (defaults when None).

    Returns:
        tuple: ``img`` (ndarray[H, W, 3], uint8, BGR) and the annotated words.
    """
    cfg = cfg or SceneConfig()
    img = make_background(rng, height, width)
    draw_clutter(rng, img, int(rng.integers(2, 9)))
    occupancy = np.zeros((height, width), np.uint8)
    regions: List[TextRegion] = []
    num_lines = max(2, int(rng.poisson(cfg.lines_per_megapixel * height * width / 1e6)))
    max_h = max(cfg.min_text_height + 1, int(cfg.max_text_height_ratio * min(height, width)))
    placed, attempts = 0, 0
    while placed < num_lines and attempts < 30 * num_lines:
        attempts += 1
        u = rng.random()
        if u < cfg.curved_prob:
            kind = 'curved'
        elif u < cfg.curved_prob + cfg.touching_prob:
            kind = 'touching'
        elif u < cfg.curved_prob + cfg.touching_prob + cfg.dont_care_prob:
            kind = 'dont_care'
        else:
            kind = 'straight'
        if kind == 'dont_care':  # too small or too faint/blurred to read
            text_h = int(rng.integers(6, cfg.min_text_height)) if rng.random() < 0.5 else \
                int(rng.integers(cfg.min_text_height, max_h))
        else:  # favour small words, like incidental scene text
            text_h = int(cfg.min_text_height + (max_h - cfg.min_text_height) * rng.random()**1.7)
        n_words = 2 if kind == 'touching' else int(rng.integers(1, 4))
        if kind == 'curved':
            n_words = int(rng.integers(1, 3))
        words = [random_word(rng) for _ in range(n_words)]
        font = fonts[int(rng.integers(len(fonts)))]
        placement, _ = _place_line(rng, kind, words, font, text_h, (height, width), cfg)
        with_plate = kind in ('straight', 'touching') and rng.random() < cfg.plate_prob
        footprint = [placement.plate] if with_plate else placement.word_polygons
        if not _fits(footprint + placement.word_polygons, occupancy, margin=2):
            continue
        _paint_line(rng, img, placement, with_plate, kind == 'dont_care', cfg)
        gap = max(3, text_h // 3)
        for polygon in footprint:
            _occupy(occupancy, polygon, gap)
        text_of = (lambda w: '###') if kind == 'dont_care' else (lambda w: w)
        regions.extend(TextRegion(p, text_of(w)) for p, w in zip(placement.word_polygons, words))
        placed += 1
    _camera_effects(rng, img)
    return img, regions


def _paint_line(rng, img, placement: Placement, with_plate: bool, faint: bool,
                cfg: SceneConfig) -> None:
    """Draw the plate (optional), outline and text body of a placed line."""
    x0, y0, x1, y1 = placement.roi
    if with_plate:
        plate_color = random_color(rng)
        cv2.fillPoly(img, [np.round(placement.plate).astype(np.int32)],
                     tuple(float(c) for c in plate_color), cv2.LINE_AA)
    inside = placement.fill > 0.5
    region = img[y0:y1, x0:x1]
    background = region[inside].mean(axis=0) if inside.any() else region.reshape(-1, 3).mean(0)
    luma = _luminance(background)
    contrast = rng.uniform(15, 40) if faint and rng.random() < 0.6 else cfg.min_contrast
    color = _contrasting_color(rng, luma, contrast)
    fill, outline = placement.fill, placement.outline
    if faint:
        sigma = rng.uniform(1.0, 2.5)
        fill = cv2.GaussianBlur(fill, (0, 0), sigma)
    if outline is not fill and not faint:
        _blend(img, placement.roi, outline, _contrasting_color(rng, _luminance(color), 100))
    if rng.random() < 0.2 and not faint:  # drop shadow
        shadow = np.zeros_like(fill)
        dy, dx = (int(v) for v in rng.integers(1, 4, size=2))
        shadow[dy:, dx:] = fill[:-dy or None, :-dx or None]
        _blend(img, placement.roi, shadow * 0.6, np.zeros(3, np.float32))
    _blend(img, placement.roi, fill, color)


def _camera_effects(rng, img: np.ndarray) -> None:
    """Uneven lighting, slight defocus and sensor noise (in place)."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
    gain = 1.0 + rng.uniform(0.0, 0.25) * (ramp - ramp.mean())
    out = img.astype(np.float32) * gain[..., None]
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 0.8))
    out += rng.normal(0, rng.uniform(1, 5), size=out.shape).astype(np.float32)
    img[:] = np.clip(out, 0, 255).astype(np.uint8)
