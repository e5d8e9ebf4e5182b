import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmengine import Config

from mmpse_ext.datasets import BadAnnotationWarning, ICDAR2015Dataset
from mmpse_ext.datasets.parsers import BadDataLog
from mmpse_ext.registry import DATASETS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FORMATS = ('paddle', 'icdar', 'mmocr')


@pytest.mark.parametrize('split', ['train', 'test'])
def test_three_formats_give_the_same_data(synthetic_root, split):
    datasets = {
        fmt: ICDAR2015Dataset(str(synthetic_root), ann_format=fmt, split=split)
        for fmt in FORMATS
    }
    lists = {fmt: [ds.get_data_info(i) for i in range(len(ds))] for fmt, ds in datasets.items()}
    assert len(lists['paddle']) == (6 if split == 'train' else 2)
    assert datasets['paddle'].bad_data_counts == {}
    for fmt in ('icdar', 'mmocr'):
        assert len(lists[fmt]) == len(lists['paddle'])
        for a, b in zip(lists['paddle'], lists[fmt]):
            assert osp.realpath(a['img_path']) == osp.realpath(b['img_path'])
            assert (a['height'], a['width']) == (b['height'], b['width'])
            assert [i['text'] for i in a['instances']] == [i['text'] for i in b['instances']]
            assert [i['ignore'] for i in a['instances']] == [i['ignore'] for i in b['instances']]
            for ia, ib in zip(a['instances'], b['instances']):
                if fmt == 'mmocr' or len(ia['polygon']) == 8:
                    assert ia['polygon'] == ib['polygon']
                else:  # raw ICDAR holds quads only: curved words become their min-area box
                    assert len(ib['polygon']) == 8
    assert datasets['paddle'].test_mode == (split == 'test')


def test_instances_have_the_ocrdataset_fields(synthetic_root):
    info = ICDAR2015Dataset(str(synthetic_root)).get_data_info(0)
    assert set(info) >= {'img_path', 'height', 'width', 'instances'}
    instance = info['instances'][0]
    assert set(instance) == {'polygon', 'bbox', 'bbox_label', 'ignore', 'text'}
    assert instance['bbox_label'] == 0 and len(instance['bbox']) == 4


@pytest.fixture
def broken_root(tmp_path, synthetic_root):
    """The synthetic Paddle layout with one missing, one corrupt and one empty sample."""
    root = tmp_path / 'root'
    shutil.copytree(synthetic_root, root, symlinks=True)
    label = root / 'train_icdar2015_label.txt'
    lines = label.read_text(encoding='utf-8').splitlines()
    os.remove(root / lines[0].split('\t')[0])  # missing image
    (root / lines[1].split('\t')[0]).write_bytes(b'not an image at all')  # unreadable
    lines[2] = lines[2].split('\t')[0] + '\t[]'  # empty annotation
    lines.append('garbage line without a tab')  # malformed
    label.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return root


def test_bad_samples_are_skipped_counted_and_summarised(broken_root, monkeypatch):
    logged = []
    monkeypatch.setattr('mmpse_ext.datasets.icdar2015_dataset.print_log',
                        lambda msg, **kwargs: logged.append(msg))
    with pytest.warns(BadAnnotationWarning) as record:
        ds = ICDAR2015Dataset(str(broken_root), split='train')
    assert len(ds) == 6 - 3
    assert ds.bad_data_counts == {
        BadDataLog.MISSING_IMAGE: 1,
        BadDataLog.CORRUPT_IMAGE: 1,
        BadDataLog.EMPTY_ANNOTATION: 1,
        BadDataLog.MALFORMED_LINE: 1
    }
    label = str(broken_root / 'train_icdar2015_label.txt')
    messages = [str(w.message) for w in record]
    for line_no in (1, 2, 3, 7):
        assert any(m.startswith(f'{label}:{line_no}: ') for m in messages), line_no
    summary = [m for m in logged if 'bad data handled' in m]
    assert len(summary) == 1
    assert '1 missing image' in summary[0] and '1 unreadable image' in summary[0]
    assert '1 empty annotation' in summary[0] and '3 images' in summary[0]


def test_empty_images_are_kept_for_evaluation(broken_root):
    with pytest.warns(BadAnnotationWarning):
        ds = ICDAR2015Dataset(str(broken_root), split='train', test_mode=True)
    assert len(ds) == 6 - 2
    assert sum(not ds.get_data_info(i)['instances'] for i in range(len(ds))) == 1


TRAIN_PIPELINE = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation', ignore_empty=True),
    dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True, with_label=True),
    dict(type='mmpse_ext.MinShortSideResize', min_short_side=128),
    dict(type='mmpse_ext.PSETargets'),
    dict(type='mmpse_ext.TextAwareRandomCrop', crop_size=128),
    dict(type='mmpse_ext.PackPSEInputs'),
]


def test_training_survives_an_image_that_fails_to_decode(synthetic_root, tmp_path, monkeypatch):
    root = tmp_path / 'root'
    shutil.copytree(synthetic_root, root, symlinks=True)
    first = (root / 'train_icdar2015_label.txt').read_text(encoding='utf-8').split('\t')[0]
    good = cv2.imencode('.png', np.zeros((40, 50, 3), np.uint8))[1].tobytes()
    (root / first).write_bytes(good[:60])  # header readable (passes the load check), data cut
    logged = []
    monkeypatch.setattr('mmpse_ext.datasets.icdar2015_dataset.print_log',
                        lambda msg, **kwargs: logged.append(msg))
    ds = ICDAR2015Dataset(str(root), split='train', pipeline=TRAIN_PIPELINE)
    assert len(ds) == 6  # the header is fine, so loading keeps it
    np.random.seed(0)
    with pytest.warns(UserWarning):  # mmocr's LoadImageFromFile warns too
        sample = ds[0]
    assert sample['data_samples'].gt_kernels.shape == (7, 128, 128)
    assert first not in sample['data_samples'].img_path
    assert ds.num_fetch_failures >= 1
    assert any(first in m and 'failure(s) so far' in m for m in logged)

    ds_test = ICDAR2015Dataset(str(root), split='train', test_mode=True, pipeline=TRAIN_PIPELINE)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match=first):
        ds_test[0]


def test_missing_annotation_file_raises_with_a_hint(tmp_path):
    with pytest.raises(FileNotFoundError, match='data_root'):
        ICDAR2015Dataset(str(tmp_path), ann_format='mmocr')


@pytest.mark.parametrize('kwargs, match', [(dict(ann_format='coco'), 'ann_format'),
                                           (dict(split='val'), 'split'),
                                           (dict(data_prefix=dict(img_path='x')), 'data_prefix')])
def test_rejects_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ICDAR2015Dataset(str(tmp_path), **kwargs)


@pytest.mark.parametrize('fmt', FORMATS)
def test_config_switches_format_and_root_by_one_field(synthetic_root, fmt):
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/synthetic_icdar2015_demo.py'))
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': str(synthetic_root),
        'train_dataloader.dataset.ann_format': fmt,
        'test_dataloader.dataset.data_root': str(synthetic_root),
        'test_dataloader.dataset.ann_format': fmt
    })
    train = DATASETS.build(cfg.train_dataloader.dataset)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert (len(train), len(test), train.ann_format, test.test_mode) == (6, 2, fmt, True)
    np.random.seed(0)
    sample = train[0]['data_samples']
    assert sample.gt_kernels.shape == (7, 320, 320) and sample.gt_train_mask.shape == (320, 320)
    packed = test[0]
    meta = packed['data_samples'].metainfo
    assert packed['inputs'].shape[1] % 32 == 0 and min(packed['inputs'].shape[1:]) >= 320 - 16
    h, w = meta['ori_shape']
    # gt polygons stay in original coordinates (annotations load after the resize)
    original = test.get_data_info(0)['instances'][0]['polygon']
    np.testing.assert_allclose(packed['data_samples'].gt_instances.polygons[0], original)
    assert meta['scale_factor'] == pytest.approx(
        (packed['inputs'].shape[2] / w, packed['inputs'].shape[1] / h))


def test_empty_raw_icdar_gt_file_is_counted(synthetic_root, tmp_path):
    root = tmp_path / 'root'
    shutil.copytree(synthetic_root, root, symlinks=True)
    (root / 'ch4_training_localization_transcription_gt' /
     'gt_img_2.txt').write_bytes(b'\xef\xbb\xbf')  # BOM only, as an editor saves an emptied file
    with pytest.warns(BadAnnotationWarning, match='gt_img_2.txt:1: empty annotation'):
        ds = ICDAR2015Dataset(str(root), ann_format='icdar', split='train')
    assert len(ds) == 5 and ds.bad_data_counts == {BadDataLog.EMPTY_ANNOTATION: 1}


def test_annotation_without_any_usable_image_raises(tmp_path):
    (tmp_path / 'train_icdar2015_label.txt').write_text('a.jpg\t[]\n', encoding='utf-8')
    with pytest.warns(BadAnnotationWarning), pytest.raises(ValueError, match='no usable image'):
        ICDAR2015Dataset(str(tmp_path))


def _write_icdar_test_split(root, lines):
    """One test image (100 x 40) with a raw-release ground-truth file of ``lines``."""
    gt_dir, img_dir = root / 'Challenge4_Test_Task1_GT', root / 'ch4_test_images'
    gt_dir.mkdir(parents=True), img_dir.mkdir()
    cv2.imwrite(str(img_dir / 'img_1.jpg'), np.zeros((40, 100, 3), np.uint8))
    gt_file = gt_dir / 'gt_img_1.txt'
    gt_file.write_bytes(b'\xef\xbb\xbf' + '\r\n'.join(lines).encode('utf-8'))
    return str(gt_file)


EVALUATION_GT = [
    '0,0,10,0,10,10,0,10,word',  # 1 a word
    '20,0,30,10,30,0,20,10,bowtie',  # 2 self-intersecting (both diagonals of a square)
    '40,5,40,5,40,5,40,5,dot',  # 3 degenerate
    '50,0,60,0,60,10,50,10,*',  # 4 a word for the official protocol
    '70,0,80,0,80,10,70,10,###',  # 5 don't-care
]


def test_test_mode_keeps_the_ground_truth_as_annotated(tmp_path):
    gt_file = _write_icdar_test_split(tmp_path, EVALUATION_GT)
    with pytest.warns(BadAnnotationWarning) as record:
        ds = ICDAR2015Dataset(str(tmp_path), ann_format='icdar', split='test')
    instances = ds.get_data_info(0)['instances']
    assert [(i['text'], i['ignore']) for i in instances] == [('word', False), ('bowtie', False),
                                                             ('dot', False), ('*', False),
                                                             ('###', True)]
    messages = [str(w.message) for w in record]
    for line_no, kind in ((2, 'self-intersecting'), (3, 'degenerate')):
        assert any(
            m.startswith(f'{gt_file}:{line_no}: {kind}') and 'kept as annotated' in m
            for m in messages), line_no
    assert ds.bad_data_counts == {BadDataLog.SELF_INTERSECTING: 1, BadDataLog.DEGENERATE: 1}

    # Training (same files read as a training split) keeps its own policy.
    with pytest.warns(BadAnnotationWarning):
        train = ICDAR2015Dataset(str(tmp_path), ann_format='icdar', split='test', test_mode=False)
    assert [(i['text'], i['ignore'])
            for i in train.get_data_info(0)['instances']] == [('word', False), ('bowtie', True),
                                                              ('*', True), ('###', True)]
    # A dataset option names other don't-care texts.
    with pytest.warns(BadAnnotationWarning):
        starred = ICDAR2015Dataset(
            str(tmp_path), ann_format='icdar', split='test', dont_care_texts=('###', '*'))
    assert [i['ignore']
            for i in starred.get_data_info(0)['instances']] == [False, False, False, True, True]
    with pytest.raises(ValueError, match='dont_care_texts'):
        ICDAR2015Dataset(str(tmp_path), ann_format='icdar', split='test', dont_care_texts='###')


def test_test_mode_ground_truth_reaches_the_metric_as_the_official_script_counts_it(tmp_path):
    from mmengine.evaluator import Evaluator
    from mmengine.structures import InstanceData

    from mmpse_ext.evaluation import ICDAR2015HmeanMetric

    _write_icdar_test_split(tmp_path, EVALUATION_GT)
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/icdar2015.py'))
    with pytest.warns(BadAnnotationWarning):
        ds = ICDAR2015Dataset(
            str(tmp_path), ann_format='icdar', split='test', pipeline=cfg.test_pipeline)
    data_sample = ds[0]['data_samples']
    # Predictions: the word, the square the bow-tie spans, the '###' region.
    data_sample.pred_instances = InstanceData(
        polygons=[
            np.array(p, np.float32)
            for p in ([0, 0, 10, 0, 10, 10, 0, 10], [20, 0, 30, 0, 30, 10, 20, 10],
                      [70, 0, 80, 0, 80, 10, 70, 10])
        ],
        scores=np.ones(3, np.float32))
    evaluator = Evaluator(ICDAR2015HmeanMetric())
    evaluator.process([data_sample])
    result = evaluator.evaluate(1)
    # Official counts: cared gts = word, bow-tie, dot, '*' (4); cared dets = 2 (the third lies
    # in the '###' region); matches: the word, and the bow-tie, whose area is 0 by the shoelace
    # sum, so IoU = 50 / (100 + 0 - 50) = 1. Precision 2/2, recall 2/4.
    assert result['icdar2015/precision'] == pytest.approx(1.0)
    assert result['icdar2015/recall'] == pytest.approx(0.5)


def test_metainfo_is_the_mmocr_json_metainfo_as_ocrdataset_has_it(synthetic_root):
    from mmocr.datasets import OCRDataset

    ours = ICDAR2015Dataset(str(synthetic_root), ann_format='mmocr', split='test')
    theirs = OCRDataset(
        ann_file='textdet_test.json',
        data_root=str(synthetic_root),
        data_prefix=dict(img_path=''),
        test_mode=True)
    assert theirs.metainfo['category'] == [dict(id=0, name='text')]
    for key, value in theirs.metainfo.items():
        assert ours.metainfo[key] == value, key
    assert ours.metainfo['dataset_name'] == 'icdar2015'  # not in the file: our default
    # As in mmengine's BaseDataset, the metainfo argument comes before the file's.
    renamed = ICDAR2015Dataset(
        str(synthetic_root), ann_format='mmocr', split='test', metainfo=dict(task_name='renamed'))
    assert renamed.metainfo['task_name'] == 'renamed'
    assert renamed.metainfo['category'] == [dict(id=0, name='text')]


@pytest.mark.parametrize('fmt', ['paddle', 'icdar'])
def test_formats_without_metainfo_describe_the_data_as_the_mmocr_json_does(synthetic_root, fmt):
    ds = ICDAR2015Dataset(str(synthetic_root), ann_format=fmt, split='test')
    from_json = ICDAR2015Dataset(str(synthetic_root), ann_format='mmocr', split='test').metainfo
    for key in ('dataset_name', 'task_name', 'category'):
        assert ds.metainfo[key] == from_json[key], key
