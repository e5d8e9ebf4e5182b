"""Reader for PaddleOCR detection label files (the seed's ICDAR2015 layout).

One image per line: ``relative/image/path<TAB>[{"transcription": "...", "points": [[x, y],
...]}, ...]``, the image path relative to the data root (PaddleOCR's ``data_dir``).
"""
import json
import os.path as osp
from typing import List

from .bad_data_log import BadDataLog
from .text_instance import InstanceRules, make_text_instance, parse_numbers


def read_paddle_label_file(label_file: str,
                           img_root: str,
                           log: BadDataLog,
                           rules: InstanceRules = InstanceRules()) -> List[dict]:
    """Parse a PaddleOCR label file.

    Args:
        label_file (str): Path of e.g. ``train_icdar2015_label.txt`` (UTF-8, BOM allowed).
        img_root (str): Directory the image paths in the file are relative to.
        log (BadDataLog): Collects warnings and counts; malformed lines are skipped,
            bad instances are handled as in :func:`make_text_instance`.
        rules (InstanceRules): Policy for unusual polygons and don't-care texts.

    Returns:
        list[dict]: ``dict(img_path, instances, where)`` per image line, in file order.
    """
    with open(label_file, encoding='utf-8-sig') as f:
        lines = f.read().splitlines()
    entries = []
    for line_no, line in enumerate(lines, start=1):
        where = f'{label_file}:{line_no}'
        if not line.strip():
            continue
        path, sep, label = line.partition('\t')
        if not sep or not path.strip():
            log.report(BadDataLog.MALFORMED_LINE, where, 'expected "<image path><TAB><json list>"',
                       'image skipped')
            continue
        try:
            regions = json.loads(label)
        except json.JSONDecodeError as err:
            log.report(BadDataLog.MALFORMED_LINE, where, f'invalid JSON ({err})', 'image skipped')
            continue
        if not isinstance(regions, list):
            log.report(BadDataLog.MALFORMED_LINE, where,
                       f'label is a {type(regions).__name__}, not a list', 'image skipped')
            continue
        instances = []
        for k, region in enumerate(regions):
            region_where = f'{where} (region {k})'
            coords = _flatten_points(region.get('points') if isinstance(region, dict) else None)
            if coords is None:
                log.report(BadDataLog.MALFORMED_INSTANCE, region_where,
                           f'"points" is not a list of [x, y] numbers: {region!r:.200}',
                           'instance skipped')
                continue
            text = region.get('transcription', '')
            instance = make_text_instance(coords, str(text), region_where, log, rules)
            if instance is not None:
                instances.append(instance)
        entries.append(
            dict(img_path=osp.join(img_root, path.strip()), instances=instances, where=where))
    return entries


def _flatten_points(points) -> List[float]:
    """``[[x, y], ...]`` → ``[x, y, ...]``; None if the structure or a value is wrong."""
    if not isinstance(points, list) or not all(
            isinstance(p, (list, tuple)) and len(p) == 2 for p in points):
        return None
    if any(isinstance(v, bool) for p in points for v in p):
        return None
    return parse_numbers([v for p in points for v in p])
