"""Reader for SCUT-CTW1500: one annotation file per image, 14-point polygons.

Three layouts of the same data are in use, all read here (chosen per file / per line):

* released training labels ``ctw1500_train_labels/NNNN.xml``: ``<image>`` elements holding
  ``<box>`` elements, each with a ``<label>`` (transcription) and ``<segs>`` (28 comma-separated
  absolute coordinates, 14 points). The XML has no don't-care convention: MMOCR's dataset
  preparer (``CTW1500AnnParser``) and the official PSENet train on every box, so do we.
* released test labels ``gt_ctw1500/NNNN.txt`` (``000NNNN.txt`` in the download): one line per
  text, 28 integers, then ``####`` and the transcription; ``###`` = don't care.
* the older ``text_label_curve/NNNN.txt`` read by the official PSENet
  (``dataset/psenet/psenet_ctw.py``): 32 integers per line, a box ``x1, y1, x2, y2`` and 28
  offsets relative to its top-left corner; no transcription (every text cared).
"""
import os.path as osp
import xml.etree.ElementTree as ET
from typing import List, Optional, Sequence

from .annotation_pairs import pair_annotation_files
from .bad_data_log import BadDataLog
from .text_instance import InstanceRules, make_text_instance, parse_numbers

NUM_CTW_COORDS = 28  # 14 points
#: the test labels put this before the transcription (``####Latin 9``, ``#######`` = ``###``)
TRANSCRIPTION_MARK = '####'
NUM_CURVE_FIELDS = 4 + NUM_CTW_COORDS  # text_label_curve: box + offsets


def read_ctw1500_file(ann_file: str, log: BadDataLog,
                      rules: InstanceRules = InstanceRules()) -> Optional[List[dict]]:
    """Parse one CTW1500 annotation file (``.xml`` or ``.txt``, any of the three layouts).

    Args:
        ann_file (str): Path of the file.
        log (BadDataLog): Collects warnings and counts (bad boxes/lines are skipped).
        rules (InstanceRules): Policy for unusual polygons and don't-care texts (not applied
            to the transcriptions of the XML training labels, see the module doc).

    Returns:
        list[dict] | None: mmocr instance dicts in file order; None when the whole file is
        unreadable (reported).
    """
    if ann_file.lower().endswith('.xml'):
        return _read_xml(ann_file, log, rules)
    return _read_txt(ann_file, log, rules)


def _read_xml(ann_file: str, log: BadDataLog, rules: InstanceRules) -> Optional[List[dict]]:
    try:
        root = ET.parse(ann_file).getroot()
    except ET.ParseError as err:
        log.report(BadDataLog.MALFORMED_LINE, f'{ann_file}:{err.position[0]}',
                   f'not valid XML ({err})', 'image skipped')
        return None
    xml_rules = rules._replace(dont_care_texts=())
    instances = []
    boxes = [box for image in root for box in image]
    for k, box in enumerate(boxes):
        where = f'{ann_file}: box {k}'
        segs = box.find('segs')
        coords = None
        if segs is not None and segs.text is not None:
            coords = parse_numbers(segs.text.strip().split(','))
        if coords is None or len(coords) != NUM_CTW_COORDS:
            log.report(
                BadDataLog.MALFORMED_INSTANCE, where,
                f'<segs> must hold {NUM_CTW_COORDS} numbers, got '
                f'{None if segs is None else segs.text!r:.200}', 'instance skipped')
            continue
        label = box.find('label')
        text = '' if label is None or label.text is None else label.text
        instance = make_text_instance(coords, text, where, log, xml_rules)
        if instance is not None:
            instances.append(instance)
    return instances


def _read_txt(ann_file: str, log: BadDataLog, rules: InstanceRules) -> List[dict]:
    with open(ann_file, encoding='utf-8-sig') as f:  # the official files may carry a BOM
        lines = f.read().splitlines()
    instances = []
    for line_no, line in enumerate(lines, start=1):
        where = f'{ann_file}:{line_no}'
        if not line.strip():
            continue
        parsed = _parse_txt_line(line.strip())
        if parsed is None:
            log.report(
                BadDataLog.MALFORMED_LINE, where,
                f'expected {NUM_CTW_COORDS} integers then "{TRANSCRIPTION_MARK}" and a '
                f'transcription, or {NUM_CURVE_FIELDS} integers (text_label_curve), '
                f'got {line!r:.200}', 'line skipped')
            continue
        coords, text = parsed
        instance = make_text_instance(coords, text, where, log, rules)
        if instance is not None:
            instances.append(instance)
    return instances


def _parse_txt_line(line: str):
    """``(coords, text)`` of a test-label or text_label_curve line; None if it is neither."""
    fields = line.split(',', NUM_CTW_COORDS)
    if len(fields) == NUM_CTW_COORDS + 1 and fields[-1].startswith(TRANSCRIPTION_MARK):
        coords = parse_numbers(fields[:NUM_CTW_COORDS])
        return None if coords is None else (coords, fields[-1][len(TRANSCRIPTION_MARK):])
    fields = line.rstrip(',').split(',')
    numbers = parse_numbers(fields)
    if numbers is None or len(numbers) != NUM_CURVE_FIELDS:
        return None
    left, top = numbers[0], numbers[1]
    offsets = numbers[4:]
    coords = [v + (left if i % 2 == 0 else top) for i, v in enumerate(offsets)]
    return coords, ''


def ctw1500_image_stems(name: str) -> Optional[Sequence[str]]:
    """Image stems for an annotation file: ``0001.xml`` -> ``0001``; the test download's
    ``0001001.txt`` -> ``0001001`` or ``1001`` (MMOCR pairs ``NNNN.jpg`` with ``000NNNN.txt``).
    """
    stem, ext = osp.splitext(name)
    if ext.lower() not in ('.xml', '.txt'):
        return None
    stems = [stem]
    if stem.isdigit() and len(stem) > 4 and stem.startswith('000'):
        stems.append(stem[3:])
    return stems


def read_ctw1500_dir(ann_dir: str,
                     img_dir: str,
                     log: BadDataLog,
                     rules: InstanceRules = InstanceRules()) -> List[dict]:
    """Pair ``NNNN.{xml,txt}`` files with ``NNNN.<ext>`` images and parse them.

    Args:
        ann_dir (str): Folder of annotation files (``ctw1500_train_labels``, ``gt_ctw1500`` or
            ``text_label_curve``).
        img_dir (str): Folder of the images.
        log (BadDataLog): Collects warnings and counts.
        rules (InstanceRules): Policy for unusual polygons and don't-care texts.

    Returns:
        list[dict]: ``dict(img_path, instances, where)`` per image, in natural name order.
    """
    entries = []
    for ann_path, img_path in pair_annotation_files(ann_dir, img_dir, ctw1500_image_stems, log):
        instances = read_ctw1500_file(ann_path, log, rules)
        if instances is not None:
            entries.append(dict(img_path=img_path, instances=instances, where=f'{ann_path}:1'))
    return entries
