"""Reader for the raw ICDAR2015 release: ``img_N.jpg`` + ``gt_img_N.txt``.

Each ground-truth line is ``x1,y1,x2,y2,x3,y3,x4,y4,transcription`` (UTF-8 with BOM, CRLF line
ends in the official files). The transcription is everything after the eighth comma, so it may
contain commas itself (``1,000``).
"""
import os
import os.path as osp
import re
from typing import List

from .bad_data_log import BadDataLog
from .text_instance import InstanceRules, make_text_instance, parse_numbers

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.JPG', '.JPEG', '.PNG')
NUM_QUAD_COORDS = 8


def natural_key(name: str):
    """Sort key putting ``img_2`` before ``img_10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', name)]


def read_icdar_gt_file(gt_file: str, log: BadDataLog,
                       rules: InstanceRules = InstanceRules()) -> List[dict]:
    """Parse one ``gt_img_N.txt``.

    Args:
        gt_file (str): Path of the file.
        log (BadDataLog): Collects warnings and counts (bad lines are skipped).
        rules (InstanceRules): Policy for unusual polygons and don't-care texts.

    Returns:
        list[dict]: mmocr instance dicts in line order.
    """
    with open(gt_file, encoding='utf-8-sig') as f:  # utf-8-sig drops the BOM
        lines = f.read().splitlines()  # handles CRLF and LF
    instances = []
    for line_no, line in enumerate(lines, start=1):
        where = f'{gt_file}:{line_no}'
        if not line.strip():
            continue
        fields = line.split(',', NUM_QUAD_COORDS)
        coords = parse_numbers(fields[:NUM_QUAD_COORDS])
        if len(fields) <= NUM_QUAD_COORDS or coords is None:
            log.report(BadDataLog.MALFORMED_LINE, where,
                       f'expected 8 numbers and a transcription, got {line!r:.200}', 'line skipped')
            continue
        instance = make_text_instance(coords, fields[NUM_QUAD_COORDS], where, log, rules)
        if instance is not None:
            instances.append(instance)
    return instances


def read_icdar_gt_dir(gt_dir: str,
                      img_dir: str,
                      log: BadDataLog,
                      rules: InstanceRules = InstanceRules()) -> List[dict]:
    """Pair ``gt_<stem>.txt`` files with ``<stem>.<ext>`` images and parse them.

    An image without a ground-truth file, or a ground-truth file without an image, is
    warned about and skipped.

    Args:
        gt_dir (str): Directory of ``gt_*.txt`` files.
        img_dir (str): Directory of the images.
        log (BadDataLog): Collects warnings and counts.
        rules (InstanceRules): Policy for unusual polygons and don't-care texts.

    Returns:
        list[dict]: ``dict(img_path, instances, where)`` per image, in natural name order.
    """
    images = {}
    for name in os.listdir(img_dir):
        stem, ext = osp.splitext(name)
        if ext in IMAGE_EXTENSIONS:
            images[stem] = osp.join(img_dir, name)
    gt_stems = set()
    entries = []
    for name in sorted(os.listdir(gt_dir), key=natural_key):
        if not (name.startswith('gt_') and name.endswith('.txt')):
            continue
        stem = name[len('gt_'):-len('.txt')]
        gt_stems.add(stem)
        gt_file = osp.join(gt_dir, name)
        if stem not in images:
            log.report(BadDataLog.MISSING_IMAGE, f'{gt_file}:1', f'no image {stem}.* in {img_dir}',
                       'file skipped')
            continue
        entries.append(
            dict(
                img_path=images[stem],
                instances=read_icdar_gt_file(gt_file, log, rules),
                where=f'{gt_file}:1'))
    for stem in sorted(set(images) - gt_stems, key=natural_key):
        log.report(BadDataLog.MISSING_ANNOTATION, images[stem], f'no gt_{stem}.txt in {gt_dir}',
                   'image skipped')
    return entries
