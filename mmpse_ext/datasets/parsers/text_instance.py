"""Turn one parsed text region into an mmocr instance dict, checking its polygon."""
import math
from typing import List, Optional, Sequence

from shapely import make_valid
from shapely.geometry import Polygon

from .bad_data_log import BadDataLog

#: Transcriptions that mark a don't-care region (ICDAR2015 uses ``###``; PaddleOCR also ``*``).
IGNORE_TRANSCRIPTIONS = ('###', '*')


def make_text_instance(coords: Sequence[float],
                       text: str,
                       where: str,
                       log: BadDataLog,
                       min_area: float = 1.0,
                       ignore: bool = False) -> Optional[dict]:
    """Check a polygon and build the instance dict mmocr's ``LoadOCRAnnotations`` reads.

    Policy: a wrong coordinate count, non-finite values or a degenerate polygon (area below
    ``min_area``) drop the instance; a self-intersecting polygon is kept but ignored, so its
    region is excluded from training instead of being learnt with a wrong shape. Every case
    is warned about and counted in ``log``.

    Args:
        coords (Sequence[float]): Flat ``[x1, y1, x2, y2, ...]`` in pixels (already numbers).
        text (str): Transcription; ``###`` or ``*`` make the instance ignored.
        where (str): ``file:line`` used in warnings.
        log (BadDataLog): Collects warnings and counts.
        min_area (float): Smallest polygon area (pixels²) that is not degenerate.
        ignore (bool): Ignore flag given by the source (MMOCR JSON), OR-ed with the checks.

    Returns:
        dict | None: ``dict(polygon=list[float], bbox=[x1, y1, x2, y2], bbox_label=0,
        ignore=bool, text=str)``, or None when the instance is dropped.
    """
    coords = [float(c) for c in coords]
    if len(coords) < 6 or len(coords) % 2:
        log.report(BadDataLog.MALFORMED_INSTANCE, where,
                   f'{len(coords)} coordinates (need an even number >= 6)', 'instance skipped')
        return None
    if not all(math.isfinite(c) for c in coords):
        log.report(BadDataLog.NON_FINITE, where, f'coordinates {coords}', 'instance skipped')
        return None
    points = list(zip(coords[0::2], coords[1::2]))
    shape = Polygon(points)
    valid = shape.is_valid
    # a bow-tie's signed lobes cancel in the plain area; measure the repaired shape instead
    area = shape.area if valid else make_valid(shape).area
    if len(set(points)) < 3 or area < min_area:
        log.report(BadDataLog.DEGENERATE, where,
                   f'area {area:.3g} px^2 < {min_area} (points {points})', 'instance skipped')
        return None
    ignore = bool(ignore) or text in IGNORE_TRANSCRIPTIONS
    if not valid:
        log.report(BadDataLog.SELF_INTERSECTING, where, f'points {points}',
                   'instance kept as ignored (excluded from training)')
        ignore = True
    xs, ys = coords[0::2], coords[1::2]
    return dict(
        polygon=coords,
        bbox=[min(xs), min(ys), max(xs), max(ys)],
        bbox_label=0,
        ignore=ignore,
        text=text)


def parse_numbers(fields: Sequence[str]) -> Optional[List[float]]:
    """Parse strings as floats; None if any is not a number (``nan``/``inf`` do parse)."""
    try:
        return [float(f) for f in fields]
    except (TypeError, ValueError):
        return None
