"""Reader for MMOCR's ``textdet_{train,test}.json`` (OCRDataset format)."""
import json
import os.path as osp
from typing import List, NamedTuple

from .bad_data_log import BadDataLog
from .text_instance import InstanceRules, make_text_instance, parse_numbers


class MMOCRAnnotations(NamedTuple):
    """What an MMOCR annotation file holds.

    Attributes:
        metainfo (dict): The file's ``metainfo`` (``{}`` when it has none), e.g.
            ``dict(dataset_name='icdar2015', task_name='textdet', category=[...])``.
        entries (list[dict]): ``dict(img_path, instances, where)`` per image (plus
            ``height``/``width`` when the file gives them).
    """
    metainfo: dict
    entries: List[dict]


def read_mmocr_json(ann_file: str,
                    img_root: str,
                    log: BadDataLog,
                    rules: InstanceRules = InstanceRules()) -> MMOCRAnnotations:
    """Parse an MMOCR text detection annotation file.

    JSON has no useful line numbers, so warnings name ``file: data_list[i].instances[j]``.

    Args:
        ann_file (str): Path of the JSON file.
        img_root (str): Directory ``img_path`` entries are relative to (absolute ones are kept).
        log (BadDataLog): Collects warnings and counts.
        rules (InstanceRules): Policy for unusual polygons and don't-care texts.

    Returns:
        MMOCRAnnotations: the file's metainfo and one entry per readable image.

    Raises:
        ValueError: The file is not JSON, has no ``data_list`` list (nothing can be read) or
            its ``metainfo`` is not a dict.
    """
    try:
        with open(ann_file, encoding='utf-8-sig') as f:
            content = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{ann_file}: not valid JSON ({err})') from err
    data_list = content.get('data_list') if isinstance(content, dict) else None
    if not isinstance(data_list, list):
        raise ValueError(f'{ann_file}: expected {{"metainfo": ..., "data_list": [...]}}')
    metainfo = content.get('metainfo', {})
    if not isinstance(metainfo, dict):
        raise ValueError(f'{ann_file}: "metainfo" must be a dict, got {type(metainfo).__name__}')
    entries = []
    for i, raw in enumerate(data_list):
        where = f'{ann_file}: data_list[{i}]'
        if not isinstance(raw, dict) or not isinstance(raw.get('img_path'), str) or not \
                isinstance(raw.get('instances', []), list):
            log.report(BadDataLog.MALFORMED_LINE, where,
                       'expected a dict with "img_path" (str) and "instances" (list)',
                       'image skipped')
            continue
        instances = []
        for j, raw_instance in enumerate(raw.get('instances', [])):
            instance_where = f'{where}.instances[{j}]'
            polygon = raw_instance.get('polygon') if isinstance(raw_instance, dict) else None
            coords = parse_numbers(polygon) if isinstance(polygon, list) else None
            if coords is None:
                log.report(BadDataLog.MALFORMED_INSTANCE, instance_where,
                           f'"polygon" is not a list of numbers: {raw_instance!r:.200}',
                           'instance skipped')
                continue
            instance = make_text_instance(
                coords,
                str(raw_instance.get('text', '')),
                instance_where,
                log,
                rules,
                ignore=bool(raw_instance.get('ignore', False)))
            if instance is not None:
                instances.append(instance)
        entry = dict(img_path=osp.join(img_root, raw['img_path']), instances=instances, where=where)
        for key in ('height', 'width'):
            if isinstance(raw.get(key), int):
                entry[key] = raw[key]
        entries.append(entry)
    return MMOCRAnnotations(metainfo, entries)
