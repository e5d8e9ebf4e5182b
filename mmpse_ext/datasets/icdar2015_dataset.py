"""ICDAR2015 text detection dataset; also reads CTW1500 and Total-Text (see TextDetDataset)."""
import logging
import os.path as osp
from collections import Counter
from typing import List, Optional, Sequence

from mmengine.logging import print_log
from mmocr.datasets import OCRDataset
from PIL import Image

from ..registry import DATASETS
from .parsers import (EVALUATION_IGNORE_TRANSCRIPTIONS, IGNORE_TRANSCRIPTIONS, TOTALTEXT_DONT_CARE,
                      BadDataLog, InstanceRules, read_ctw1500_dir, read_icdar_gt_dir,
                      read_mmocr_json, read_paddle_label_file, read_totaltext_dir)

#: The seed's PaddleOCR layout.
DEFAULT_DATA_ROOT = '/home/datasets/ICDAR2015/text_localization'

#: Per format and split: the annotation source (file or directory) and the image directory
#: (``''`` = paths in the annotation file are relative to ``data_root``). Names follow
#: PaddleOCR's doc, the official ICDAR2015 release and MMOCR's dataset preparer; for CTW1500 and
#: Total-Text, the folders of their released archives (docs/recipe.md).
FORMAT_DEFAULTS = {
    'paddle': {
        'train': dict(ann_file='train_icdar2015_label.txt', img_dir=''),
        'test': dict(ann_file='test_icdar2015_label.txt', img_dir=''),
    },
    'icdar': {
        'train':
        dict(ann_file='ch4_training_localization_transcription_gt', img_dir='ch4_training_images'),
        'test':
        dict(ann_file='Challenge4_Test_Task1_GT', img_dir='ch4_test_images'),
    },
    'mmocr': {
        'train': dict(ann_file='textdet_train.json', img_dir=''),
        'test': dict(ann_file='textdet_test.json', img_dir=''),
    },
    'ctw1500': {
        'train': dict(ann_file='ctw1500_train_labels', img_dir='train_images'),
        'test': dict(ann_file='gt_ctw1500', img_dir='test_images'),
    },
    'totaltext': {
        'train': dict(ann_file='txt_format/Train', img_dir='Images/Train'),
        'test': dict(ann_file='txt_format/Test', img_dir='Images/Test'),
    },
}

#: Formats with one annotation file per image: ``ann_file`` is a folder, ``img_dir`` the
#: image folder (paths are not listed in the annotation).
DIRECTORY_FORMATS = ('icdar', 'ctw1500', 'totaltext')

#: Don't-care transcriptions of the curved-text releases, in training and evaluation alike:
#: what MMOCR's dataset preparer (``CTW1500AnnParser``, ``TotaltextTextDetAnnParser``) marks
#: ``ignore``.
FORMAT_DONT_CARE_TEXTS = {'ctw1500': ('###', ), 'totaltext': (TOTALTEXT_DONT_CARE, )}

#: ``metainfo['dataset_name']`` per format (MMOCR's preparer names).
FORMAT_DATASET_NAMES = {'ctw1500': 'ctw1500', 'totaltext': 'totaltext'}

#: Metainfo for what the annotation does not say (an MMOCR JSON's own ``metainfo`` comes first,
#: the ``metainfo`` argument before both): MMOCR's dataset preparer writes these for ICDAR2015.
DEFAULT_METAINFO = dict(
    dataset_name='icdar2015', task_name='textdet', category=[dict(id=0, name='text')])


@DATASETS.register_module()
class ICDAR2015Dataset(OCRDataset):
    """ICDAR2015 (or any data in its formats), CTW1500 or Total-Text as an mmocr ``OCRDataset``.

    ``data_list`` entries: ``img_path``, ``height``, ``width``, ``instances`` =
    ``[dict(polygon=[x1, y1, ...], bbox=[x1, y1, x2, y2], bbox_label=0, ignore=bool,
    text=str)]``; ``ignore`` marks don't-care regions (see ``dont_care_texts``).

    Bad data never stops loading: each problem is warned about (file and line), the item is
    skipped or ignored, and a per-kind count (:attr:`bad_data_counts`) is logged once the
    annotations are loaded. In ``test_mode`` the ground truth stays as annotated, since the
    official protocol evaluates it that way (``docs/evaluation.md``): a degenerate or
    self-intersecting polygon is kept and cared (only warned about). In training, degenerate
    polygons are dropped and self-intersecting ones ignored.

    At run time, an image that fails to load makes the pipeline return None (use
    ``LoadImageFromFile(ignore_empty=True)``); the failure is counted
    (:attr:`num_fetch_failures`, per worker process) and logged, and mmengine retries a random
    other sample. In ``test_mode`` such a failure raises, since evaluation must see every image.

    :attr:`metainfo` is built as MMOCR's ``OCRDataset`` builds it: the ``metainfo`` argument
    first, then (``'mmocr'`` format) the annotation file's ``metainfo``, then
    :data:`DEFAULT_METAINFO` for any key still missing.

    Args:
        data_root (str): Dataset root; every default path below is relative to it.
        ann_format (str): ``'paddle'`` (label txt), ``'icdar'`` (``gt_img_N.txt`` files),
            ``'mmocr'`` (``textdet_*.json``), ``'ctw1500'`` (``NNNN.xml`` training labels,
            ``NNNN.txt`` test labels or the older ``text_label_curve`` files) or
            ``'totaltext'`` (``poly_gt_imgN.txt``).
        split (str): ``'train'`` or ``'test'``; selects the default file names.
        ann_file (str, optional): Override the annotation file (the folder of per-image files
            for ``'icdar'``, ``'ctw1500'``, ``'totaltext'``).
        img_dir (str, optional): Override the image directory (per-image formats) or the root
            the annotation's image paths are relative to (``'paddle'``/``'mmocr'``).
        filter_empty (bool, optional): Drop images with no instance at all (after dropping bad
            ones). Defaults to ``not test_mode``.
        check_images (bool): Skip (and count) images that are missing or whose header cannot
            be read when loading; also fills ``height``/``width``.
        min_polygon_area (float): Polygons smaller than this (pixels²) are degenerate.
        dont_care_texts (Sequence[str], optional): Transcriptions that mark don't-care regions.
            Defaults to ``('###',)`` in test mode (the official protocol) and ``('###', '*')``
            in training (PaddleOCR's label encoder); for CTW1500 ``('###',)`` and for
            Total-Text ``('#',)`` in both (the releases' conventions, as MMOCR reads them).
        test_mode (bool, optional): Defaults to ``split == 'test'``.
        **kwargs: ``pipeline``, ``indices``, ``serialize_data``, ``lazy_init``,
            ``max_refetch``, ``metainfo`` as in mmengine's ``BaseDataset``.
    """

    def __init__(self,
                 data_root: str = DEFAULT_DATA_ROOT,
                 ann_format: str = 'paddle',
                 split: str = 'train',
                 ann_file: Optional[str] = None,
                 img_dir: Optional[str] = None,
                 filter_empty: Optional[bool] = None,
                 check_images: bool = True,
                 min_polygon_area: float = 1.0,
                 dont_care_texts: Optional[Sequence[str]] = None,
                 test_mode: Optional[bool] = None,
                 **kwargs) -> None:
        if ann_format not in FORMAT_DEFAULTS:
            raise ValueError(f'ann_format must be one of {sorted(FORMAT_DEFAULTS)}, '
                             f'got {ann_format!r}')
        if split not in ('train', 'test'):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        for key in ('data_prefix', 'filter_cfg'):
            if key in kwargs:
                raise ValueError(f'{type(self).__name__} does not take {key!r}; use img_dir / '
                                 'filter_empty')
        defaults = FORMAT_DEFAULTS[ann_format][split]
        if dont_care_texts is None:
            dont_care_texts = FORMAT_DONT_CARE_TEXTS.get(ann_format)
        self.ann_format = ann_format
        self.split = split
        self.check_images = check_images
        self.min_polygon_area = min_polygon_area
        test_mode = split == 'test' if test_mode is None else test_mode
        self.filter_empty = (not test_mode) if filter_empty is None else filter_empty
        if dont_care_texts is None:
            dont_care_texts = EVALUATION_IGNORE_TRANSCRIPTIONS if test_mode else \
                IGNORE_TRANSCRIPTIONS
        elif isinstance(dont_care_texts, str):
            raise ValueError('dont_care_texts must be a sequence of strings, e.g. '
                             f"('###',), got the string {dont_care_texts!r}")
        self.instance_rules = InstanceRules(
            min_area=min_polygon_area,
            keep_invalid=test_mode,
            dont_care_texts=tuple(dont_care_texts))
        self.bad_data_counts: Counter = Counter()
        self.num_fetch_failures = 0
        super().__init__(
            ann_file=defaults['ann_file'] if ann_file is None else ann_file,
            data_root=data_root,
            data_prefix=dict(img_path=defaults['img_dir'] if img_dir is None else img_dir),
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the annotations, check images, drop bad items and log a summary."""
        log = BadDataLog()
        img_root = self.data_prefix['img_path']
        if not osp.exists(self.ann_file):
            raise FileNotFoundError(
                f'{type(self).__name__}(ann_format={self.ann_format!r}, split={self.split!r}): '
                f'annotation {self.ann_file!r} not found (data_root={self.data_root!r}); set '
                'data_root / ann_file, e.g. --cfg-options train_dataloader.dataset.data_root=..')
        rules = self.instance_rules
        if self.ann_format in DIRECTORY_FORMATS and not osp.isdir(self.ann_file):
            raise NotADirectoryError(
                f'{type(self).__name__}(ann_format={self.ann_format!r}): ann_file '
                f'{self.ann_file!r} must be the folder of per-image annotation files')
        if self.ann_format == 'paddle':
            entries = read_paddle_label_file(self.ann_file, img_root, log, rules)
        elif self.ann_format == 'icdar':
            entries = read_icdar_gt_dir(self.ann_file, img_root, log, rules)
        elif self.ann_format == 'ctw1500':
            entries = read_ctw1500_dir(self.ann_file, img_root, log, rules)
        elif self.ann_format == 'totaltext':
            entries = read_totaltext_dir(self.ann_file, img_root, log, rules)
        else:
            file_metainfo, entries = read_mmocr_json(self.ann_file, img_root, log, rules)
            for key, value in file_metainfo.items():
                self._metainfo.setdefault(key, value)
        if self.ann_format in FORMAT_DATASET_NAMES:
            self._metainfo.setdefault('dataset_name', FORMAT_DATASET_NAMES[self.ann_format])
        for key, value in DEFAULT_METAINFO.items():
            self._metainfo.setdefault(key, value)

        data_list = []
        for entry in entries:
            where = entry.pop('where')
            if self.check_images and not self._read_image_size(entry, where, log):
                continue
            if not entry['instances']:
                action = 'image skipped' if self.filter_empty else 'image kept (no text)'
                log.report(BadDataLog.EMPTY_ANNOTATION, where,
                           f'no usable text instance for {entry["img_path"]}', action)
                if self.filter_empty:
                    continue
            entry.setdefault('height', None)
            entry.setdefault('width', None)
            data_list.append(entry)

        self.bad_data_counts = log.counts
        if not data_list:
            raise ValueError(
                f'{type(self).__name__}({self.ann_format}, {self.split}): no usable image in '
                f'{self.ann_file} ({len(entries)} entries read; bad data: {log.summary()})')
        num_instances = sum(len(d['instances']) for d in data_list)
        num_ignored = sum(i['ignore'] for d in data_list for i in d['instances'])
        print_log(
            f'{type(self).__name__}({self.ann_format}, {self.split}) from {self.ann_file}: '
            f'{len(data_list)} images, {num_instances} instances ({num_ignored} ignored); '
            f'bad data handled: {log.summary()}',
            logger='current',
            level=logging.WARNING if log.counts else logging.INFO)
        return data_list

    @staticmethod
    def _read_image_size(entry: dict, where: str, log: BadDataLog) -> bool:
        """Fill height/width from the image header; False (reported) if unreadable."""
        path = entry['img_path']
        if not osp.isfile(path):
            log.report(BadDataLog.MISSING_IMAGE, where, f'{path} does not exist', 'image skipped')
            return False
        try:
            with Image.open(path) as img:  # reads the header only
                entry['width'], entry['height'] = img.size
        except Exception as err:  # PIL raises several types for broken files
            log.report(BadDataLog.CORRUPT_IMAGE, where, f'{path}: {err}', 'image skipped')
            return False
        return True

    def prepare_data(self, idx: int):
        """Run the pipeline; count and report a sample the pipeline rejects (returns None)."""
        data = super().prepare_data(idx)
        if data is None:
            self.num_fetch_failures += 1
            img_path = self.get_data_info(idx)['img_path']
            if self.test_mode:
                raise RuntimeError(f'{img_path}: the test pipeline returned None (image '
                                   'failed to load or decode?); evaluation needs every image')
            print_log(
                f'{img_path}: sample dropped (failed to load/decode, or the pipeline returned '
                f'None); {self.num_fetch_failures} such failure(s) so far in this process; '
                'retrying with another random sample',
                logger='current',
                level=logging.WARNING)
        return data
