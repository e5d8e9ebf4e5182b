"""Readers for the three ways ICDAR2015 annotations are distributed."""
from .bad_data_log import BadAnnotationWarning, BadDataLog
from .icdar_txt import read_icdar_gt_dir, read_icdar_gt_file
from .mmocr_json import MMOCRAnnotations, read_mmocr_json
from .paddle_label import read_paddle_label_file
from .text_instance import (EVALUATION_IGNORE_TRANSCRIPTIONS, EVALUATION_RULES,
                            IGNORE_TRANSCRIPTIONS, InstanceRules, make_text_instance)

__all__ = [
    'BadAnnotationWarning', 'BadDataLog', 'EVALUATION_IGNORE_TRANSCRIPTIONS', 'EVALUATION_RULES',
    'IGNORE_TRANSCRIPTIONS', 'InstanceRules', 'MMOCRAnnotations', 'make_text_instance',
    'read_icdar_gt_dir', 'read_icdar_gt_file', 'read_mmocr_json', 'read_paddle_label_file'
]
