"""Reader for Total-Text's released txt ground truth (``poly_gt_imgN.txt`` for ``imgN.jpg``).

One word per record::

    x: [[115 143 164 176 160 135 112]], y: [[322 316 330 358 367 340 329]], ornt: [u'c'],
    transcriptions: [u'ASTRO']

The release writes each record on one line, but a long coordinate list is wrapped onto
continuation lines (a new record starts with ``x:``). The polygon has any number of points
(4 for many straight words, up to a few dozen along curves); ``#`` is the don't-care
transcription. The transcription is a Python literal (``u'...'`` or ``u"..."``); an empty list
reads as ``#`` and a lone ``,`` as ``#`` too, as MMOCR's dataset preparer
(``TotaltextTextDetAnnParser``) reads them, so both tools build the same set.
"""
import ast
import re
from typing import List, Optional, Sequence, Tuple

from .annotation_pairs import pair_annotation_files
from .bad_data_log import BadDataLog
from .text_instance import InstanceRules, make_text_instance, parse_numbers

#: Total-Text's don't-care transcription.
TOTALTEXT_DONT_CARE = '#'
GT_PREFIX = 'poly_gt_'

_RECORD = re.compile(r'^x:\s*\[\[(?P<x>[^\]]*)\]\]\s*,\s*y:\s*\[\[(?P<y>[^\]]*)\]\]\s*,\s*'
                     r'ornt:\s*\[(?P<ornt>[^\]]*)\]\s*,\s*transcriptions:\s*\[(?P<text>.*)\]\s*$')


def _records(lines: Sequence[str]) -> List[Tuple[int, str]]:
    """Join wrapped lines: ``(first line number, whole record)`` per record; text before the
    first ``x:`` line becomes a record of its own (reported as malformed by the caller)."""
    records: List[Tuple[int, List[str]]] = []
    for line_no, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        if text.startswith('x:') or not records:
            records.append((line_no, [text]))
        else:
            records[-1][1].append(text)
    return [(line_no, ' '.join(parts)) for line_no, parts in records]


def _transcription(literal: str) -> Optional[str]:
    """The word of ``u'ASTRO'`` (several literals are joined with commas); None if invalid."""
    if not literal.strip():
        return TOTALTEXT_DONT_CARE
    try:
        value = ast.literal_eval('[' + literal + ']')
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not value or not all(isinstance(v, str) for v in value):
        return None
    text = ','.join(value)
    return TOTALTEXT_DONT_CARE if text == ',' else text


def parse_totaltext_record(record: str) -> Optional[Tuple[List[float], str]]:
    """``(coords [x1, y1, ...], transcription)`` of one record; None if malformed."""
    match = _RECORD.match(record)
    if match is None:
        return None
    xs = parse_numbers(match['x'].replace(',', ' ').split())
    ys = parse_numbers(match['y'].replace(',', ' ').split())
    text = _transcription(match['text'])
    if xs is None or ys is None or len(xs) != len(ys) or text is None:
        return None
    coords = [v for point in zip(xs, ys) for v in point]
    return coords, text


def read_totaltext_file(gt_file: str, log: BadDataLog,
                        rules: InstanceRules = InstanceRules()) -> List[dict]:
    """Parse one ``poly_gt_imgN.txt``.

    Args:
        gt_file (str): Path of the file.
        log (BadDataLog): Collects warnings and counts (bad records are skipped).
        rules (InstanceRules): Policy for unusual polygons and don't-care texts (the dataset
            passes ``('#',)`` for Total-Text).

    Returns:
        list[dict]: mmocr instance dicts in file order.
    """
    with open(gt_file, encoding='utf-8-sig') as f:
        lines = f.read().splitlines()
    instances = []
    for line_no, record in _records(lines):
        where = f'{gt_file}:{line_no}'
        parsed = parse_totaltext_record(record)
        if parsed is None:
            log.report(
                BadDataLog.MALFORMED_LINE, where,
                "expected x: [[...]], y: [[...]] (same count), ornt: [...], "
                f"transcriptions: [u'...'], got {record!r:.200}", 'record skipped')
            continue
        coords, text = parsed
        instance = make_text_instance(coords, text, where, log, rules)
        if instance is not None:
            instances.append(instance)
    return instances


def totaltext_image_stems(name: str) -> Optional[Sequence[str]]:
    """``poly_gt_img12.txt`` -> ``['img12']``; None for other files."""
    if not (name.startswith(GT_PREFIX) and name.endswith('.txt')):
        return None
    return [name[len(GT_PREFIX):-len('.txt')]]


def read_totaltext_dir(gt_dir: str,
                       img_dir: str,
                       log: BadDataLog,
                       rules: InstanceRules = InstanceRules()) -> List[dict]:
    """Pair ``poly_gt_<stem>.txt`` files with ``<stem>.<ext>`` images and parse them.

    Args:
        gt_dir (str): Folder of the txt ground truth (e.g. ``txt_format/Train``).
        img_dir (str): Folder of the images (e.g. ``Images/Train``).
        log (BadDataLog): Collects warnings and counts.
        rules (InstanceRules): Policy for unusual polygons and don't-care texts.

    Returns:
        list[dict]: ``dict(img_path, instances, where)`` per image, in natural name order.
    """
    return [
        dict(
            img_path=img_path,
            instances=read_totaltext_file(gt_path, log, rules),
            where=f'{gt_path}:1')
        for gt_path, img_path in pair_annotation_files(gt_dir, img_dir, totaltext_image_stems, log)
    ]
