"""Render a line of words into alpha masks with per-word annotation boxes (patch coordinates)."""
from functools import lru_cache
from typing import List, NamedTuple, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont


class RenderedLine(NamedTuple):
    """A line of words drawn flat, before it is warped into the scene.

    Attributes:
        fill (ndarray[Hp, Wp], uint8): Glyph coverage (alpha) of the text body.
        outline (ndarray[Hp, Wp], uint8): Coverage of the glyphs grown by the stroke width
            (equal to ``fill`` when there is no outline).
        word_boxes (list[tuple[float, float, float, float]]): Per word ``x0, y0, x1, y1``: the
            ink box plus a small padding, as ICDAR annotates words.
        line_box (tuple[float, float, float, float]): Union of the word boxes.
    """
    fill: np.ndarray
    outline: np.ndarray
    word_boxes: List[Tuple[float, float, float, float]]
    line_box: Tuple[float, float, float, float]


@lru_cache(maxsize=256)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """Cached ``ImageFont.truetype``."""
    return ImageFont.truetype(path, size)


def render_line(words: Sequence[str],
                font_path: str,
                size: int,
                gap: float,
                stroke: int = 0,
                pad_ratio: float = 0.08) -> RenderedLine:
    """Draw words left to right on one baseline.

    Args:
        words (Sequence[str]): Words of the line (no spaces inside a word).
        font_path (str): TrueType file.
        size (int): Font size in pixels.
        gap (float): Pixels between neighbouring padded word boxes; 0 makes the annotated
            boxes touch (adjacent instances), a space is about ``0.3 * size``.
        stroke (int): Outline width in pixels (0 = none).
        pad_ratio (float): Box padding around the ink as a fraction of ``size``.

    Returns:
        RenderedLine: see its attributes.
    """
    font = load_font(font_path, int(size))
    pad = max(1.0, pad_ratio * size) + stroke
    margin = int(pad + 2 * stroke + 4)
    ink = [font.getbbox(word) for word in words]  # (l, t, r, b) around the origin
    top = min(b[1] for b in ink)
    bottom = max(b[3] for b in ink)
    widths = [b[2] - b[0] for b in ink]
    total_w = sum(widths) + 2 * pad * len(words) + gap * (len(words) - 1)
    patch_w = int(np.ceil(total_w)) + 2 * margin
    patch_h = int(bottom - top + 2 * pad) + 2 * margin
    fill = Image.new('L', (patch_w, patch_h), 0)
    outline = Image.new('L', (patch_w, patch_h), 0)
    draw_fill, draw_outline = ImageDraw.Draw(fill), ImageDraw.Draw(outline)
    origin_y = margin + pad - top
    cursor = float(margin)
    boxes = []
    for word, (left, t, right, b), width in zip(words, ink, widths):
        x = cursor + pad - left
        draw_fill.text((x, origin_y), word, font=font, fill=255)
        if stroke:
            draw_outline.text((x, origin_y),
                              word,
                              font=font,
                              fill=255,
                              stroke_width=stroke,
                              stroke_fill=255)
        boxes.append((cursor, origin_y + t - pad, cursor + width + 2 * pad, origin_y + b + pad))
        cursor += width + 2 * pad + gap
    line_box = (boxes[0][0], min(b[1] for b in boxes), boxes[-1][2], max(b[3] for b in boxes))
    fill_arr = np.asarray(fill)
    outline_arr = np.asarray(outline) if stroke else fill_arr
    return RenderedLine(fill_arr, outline_arr, boxes, line_box)
