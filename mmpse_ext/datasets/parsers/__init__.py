"""Annotation readers: ICDAR2015 (raw, PaddleOCR label files, MMOCR JSON), CTW1500, Total-Text."""
from .annotation_pairs import pair_annotation_files
from .bad_data_log import BadAnnotationWarning, BadDataLog
from .ctw1500 import read_ctw1500_dir, read_ctw1500_file
from .icdar_txt import read_icdar_gt_dir, read_icdar_gt_file
from .mmocr_json import MMOCRAnnotations, read_mmocr_json
from .paddle_label import read_paddle_label_file
from .text_instance import (EVALUATION_IGNORE_TRANSCRIPTIONS, EVALUATION_RULES,
                            IGNORE_TRANSCRIPTIONS, InstanceRules, make_text_instance)
from .totaltext import TOTALTEXT_DONT_CARE, read_totaltext_dir, read_totaltext_file

__all__ = [
    'BadAnnotationWarning', 'BadDataLog', 'EVALUATION_IGNORE_TRANSCRIPTIONS', 'EVALUATION_RULES',
    'IGNORE_TRANSCRIPTIONS', 'InstanceRules', 'MMOCRAnnotations', 'TOTALTEXT_DONT_CARE',
    'make_text_instance', 'pair_annotation_files', 'read_ctw1500_dir', 'read_ctw1500_file',
    'read_icdar_gt_dir', 'read_icdar_gt_file', 'read_mmocr_json', 'read_paddle_label_file',
    'read_totaltext_dir', 'read_totaltext_file'
]
