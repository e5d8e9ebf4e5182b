"""Textured backgrounds and non-text clutter for the synthetic scenes (BGR uint8)."""
import cv2
import numpy as np


def smooth_noise(rng: np.random.Generator, height: int, width: int, cell: int) -> np.ndarray:
    """Value noise: a coarse random grid upsampled with bicubic interpolation.

    Returns:
        ndarray[H, W], float32: roughly in [-1, 1].
    """
    grid = rng.uniform(-1, 1, size=(max(2, height // cell + 2), max(2, width // cell + 2)))
    return cv2.resize(grid.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)


def fractal_noise(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Sum of value-noise octaves (cells 64 … 4 px), float32 in about [-1, 1]."""
    total = np.zeros((height, width), np.float32)
    amplitude = 1.0
    for cell in (64, 32, 16, 8, 4):
        total += amplitude * smooth_noise(rng, height, width, cell)
        amplitude *= 0.55
    return total / 2.0


def random_color(rng: np.random.Generator, low: int = 0, high: int = 256) -> np.ndarray:
    """A BGR colour with each channel in ``[low, high)``."""
    return rng.integers(low, high, size=3).astype(np.float32)


def _gradient(rng, height, width):
    """Linear blend of two colours along a random direction, plus fine noise."""
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (np.cos(angle) * xx / width + np.sin(angle) * yy / height)
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    img = (1 - t)[..., None] * random_color(rng) + t[..., None] * random_color(rng)
    return img + 18 * fractal_noise(rng, height, width)[..., None]


def _stone(rng, height, width):
    """Tinted fractal noise (walls, pavement, foliage)."""
    base = random_color(rng, 40, 220)
    noise = fractal_noise(rng, height, width)
    tint = rng.uniform(0.5, 1.0, size=3).astype(np.float32)
    return base + rng.uniform(40, 90) * noise[..., None] * tint


def _tiles(rng, height, width):
    """Bricks / tiles / window grids with mortar lines and per-tile colour jitter."""
    tile_h = int(rng.integers(12, 60))
    tile_w = int(tile_h * rng.uniform(1.0, 3.0))
    base = random_color(rng, 50, 220)
    mortar = random_color(rng, 30, 230)
    img = np.empty((height, width, 3), np.float32)
    img[:] = mortar
    offset_rows = rng.random() < 0.5
    for row, y in enumerate(range(0, height, tile_h)):
        shift = (tile_w // 2) * (row % 2) if offset_rows else 0
        for x in range(-shift, width, tile_w):
            color = base + rng.normal(0, 18, size=3)
            img[y + 1:y + tile_h - 1, max(x + 1, 0):max(x + tile_w - 1, 0)] = color
    return img + 12 * fractal_noise(rng, height, width)[..., None]


def _stripes(rng, height, width):
    """Wood grain / awnings: a sine of a noisy coordinate."""
    angle = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    coord = np.cos(angle) * xx + np.sin(angle) * yy + 25 * fractal_noise(rng, height, width)
    wave = np.sin(coord / rng.uniform(3, 20))[..., None]
    a, b = random_color(rng), random_color(rng)
    return a + (b - a) * (0.5 + 0.5 * wave)


BACKGROUND_KINDS = (_gradient, _stone, _tiles, _stripes)


def make_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A random textured background.

    Returns:
        ndarray[H, W, 3], uint8 (BGR).
    """
    kind = BACKGROUND_KINDS[rng.integers(len(BACKGROUND_KINDS))]
    img = kind(rng, height, width)
    if rng.random() < 0.5:  # a second layer (e.g. a wall and a sky) split by a random line
        other = BACKGROUND_KINDS[rng.integers(len(BACKGROUND_KINDS))](rng, height, width)
        split = np.zeros((height, width), np.uint8)
        y0, y1 = rng.integers(0, height, size=2)
        cv2.fillPoly(split, [np.array([[0, 0], [width, 0], [width, y1], [0, y0]], np.int32)], 1)
        img = np.where(split[..., None] > 0, img, other)
    return np.clip(img, 0, 255).astype(np.uint8)


def draw_clutter(rng: np.random.Generator, img: np.ndarray, count: int) -> None:
    """Draw non-text shapes (lines, boxes, circles, poles) in place, so that edges and
    rectangles alone do not mean text.

    Args:
        img (ndarray[H, W, 3], uint8): Canvas (BGR), modified in place.
        count (int): Number of shapes.
    """
    height, width = img.shape[:2]
    for _ in range(count):
        color = tuple(int(c) for c in random_color(rng))
        thickness = int(rng.integers(1, 6))
        kind = rng.integers(5)
        x0, x1 = (int(v) for v in rng.integers(0, width, size=2))
        y0, y1 = (int(v) for v in rng.integers(0, height, size=2))
        if kind == 0:
            cv2.line(img, (x0, y0), (x1, y1), color, thickness, cv2.LINE_AA)
        elif kind == 1:
            cv2.rectangle(img, (x0, y0), (x1, y1), color, thickness if rng.random() < 0.6 else -1)
        elif kind == 2:
            radius = int(rng.integers(4, max(5, min(height, width) // 6)))
            cv2.circle(img, (x0, y0), radius, color, thickness if rng.random() < 0.5 else -1,
                       cv2.LINE_AA)
        elif kind == 3:  # a pole or a frame edge
            w = int(rng.integers(3, 16))
            cv2.rectangle(img, (x0, 0), (x0 + w, height), color, -1)
        else:  # a blurred blob (foliage, a person, a car in the distance)
            axes = (int(rng.integers(5, width // 5 + 6)), int(rng.integers(5, height // 5 + 6)))
            cv2.ellipse(img, (x0, y0), axes, float(rng.uniform(0, 180)), 0, 360, color, -1,
                        cv2.LINE_AA)
