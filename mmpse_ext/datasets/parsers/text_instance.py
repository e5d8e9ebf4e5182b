"""Turn one parsed text region into an mmocr instance dict, checking its polygon."""
import math
from typing import List, NamedTuple, Optional, Sequence, Tuple

from shapely import make_valid
from shapely.geometry import Polygon

from .bad_data_log import BadDataLog

#: Transcriptions that mark a don't-care region in training: ICDAR2015's ``###`` and PaddleOCR's
#: ``*`` (its ``DetLabelEncode`` ignores both).
IGNORE_TRANSCRIPTIONS = ('###', '*')
#: The official ICDAR2015 evaluation's only don't-care transcription.
EVALUATION_IGNORE_TRANSCRIPTIONS = ('###', )

_KEPT_FOR_EVALUATION = 'instance kept as annotated (evaluation ground truth is never changed)'


class InstanceRules(NamedTuple):
    """How the readers treat unusual polygons and which texts mark don't-care regions.

    Attributes:
        min_area (float): Smallest polygon area (pixels²) that is not degenerate.
        keep_invalid (bool): False (training): degenerate polygons are dropped and
            self-intersecting ones ignored. True (evaluation): both are kept as annotated,
            because the official protocol counts them (see ``docs/evaluation.md``).
        dont_care_texts (tuple[str]): Transcriptions that make an instance ignored.
    """
    min_area: float = 1.0
    keep_invalid: bool = False
    dont_care_texts: Tuple[str, ...] = IGNORE_TRANSCRIPTIONS


#: The evaluation policy: everything kept as annotated, only ``###`` don't-care.
EVALUATION_RULES = InstanceRules(
    keep_invalid=True, dont_care_texts=EVALUATION_IGNORE_TRANSCRIPTIONS)


def make_text_instance(coords: Sequence[float],
                       text: str,
                       where: str,
                       log: BadDataLog,
                       rules: InstanceRules = InstanceRules(),
                       ignore: bool = False) -> Optional[dict]:
    """Check a polygon and build the instance dict mmocr's ``LoadOCRAnnotations`` reads.

    Training policy (default rules): a wrong coordinate count, non-finite values or a degenerate
    polygon (area below ``rules.min_area``) drop the instance; a self-intersecting polygon is
    kept but ignored, so its region is excluded from training instead of being learnt with a
    wrong shape. Evaluation policy (``rules.keep_invalid``): degenerate and self-intersecting
    polygons are kept as annotated, cared unless their text or flag says otherwise; only
    polygons that cannot be built at all (wrong count, non-finite) are dropped. Every case is
    warned about and counted in ``log``.

    Args:
        coords (Sequence[float]): Flat ``[x1, y1, x2, y2, ...]`` in pixels (already numbers).
        text (str): Transcription; one of ``rules.dont_care_texts`` makes the instance ignored.
        where (str): ``file:line`` used in warnings.
        log (BadDataLog): Collects warnings and counts.
        rules (InstanceRules): See :class:`InstanceRules`.
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
    ignore = bool(ignore) or text in rules.dont_care_texts
    if len(set(points)) < 3 or area < rules.min_area:
        log.report(BadDataLog.DEGENERATE, where,
                   f'area {area:.3g} px^2 < {rules.min_area} (points {points})',
                   _KEPT_FOR_EVALUATION if rules.keep_invalid else 'instance skipped')
        if not rules.keep_invalid:
            return None
    elif not valid:
        log.report(
            BadDataLog.SELF_INTERSECTING, where, f'points {points}', _KEPT_FOR_EVALUATION
            if rules.keep_invalid else 'instance kept as ignored (excluded from training)')
        ignore = ignore or not rules.keep_invalid
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
