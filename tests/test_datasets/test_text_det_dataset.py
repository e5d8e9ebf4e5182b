"""TextDetDataset: the CTW1500 and Total-Text layouts of the synthetic curved set read as the same
data, with the releases' don't-care conventions and the usual bad-data reporting."""
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from shapely.geometry import Polygon

from mmpse_ext.datasets import BadAnnotationWarning, ICDAR2015Dataset, TextDetDataset
from mmpse_ext.datasets.parsers import BadDataLog
from mmpse_ext.registry import DATASETS


def _infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


@pytest.mark.parametrize('split', ['train', 'test'])
def test_ctw1500_and_totaltext_layouts_give_the_same_words(curved_root, split):
    ctw = TextDetDataset(str(curved_root), ann_format='ctw1500', split=split)
    tt = TextDetDataset(str(curved_root), ann_format='totaltext', split=split)
    assert len(ctw) == len(tt) == (4 if split == 'train' else 2)
    assert ctw.bad_data_counts == tt.bad_data_counts == {}
    assert ctw.metainfo['dataset_name'] == 'ctw1500'
    assert tt.metainfo['dataset_name'] == 'totaltext'
    curved = 0
    for a, b in zip(_infos(ctw), _infos(tt)):
        assert osp.realpath(a['img_path']) == osp.realpath(b['img_path'])
        assert (a['height'], a['width']) == (b['height'], b['width'])
        assert len(a['instances']) == len(b['instances'])
        for ia, ib in zip(a['instances'], b['instances']):
            assert len(ia['polygon']) == 28  # CTW1500: always 14 points
            if len(ib['polygon']) == 28:  # a curved word: the very same points
                assert ia['polygon'] == ib['polygon']
                curved += 1
            else:  # a straight word: 4 corners vs 7 points per side on the same edges
                pa = Polygon(np.reshape(ia['polygon'], (-1, 2)))
                pb = Polygon(np.reshape(ib['polygon'], (-1, 2)))
                assert pa.symmetric_difference(pb).area <= 0.05 * pb.area + 20
            dont_care = ib['text'] == '#'
            assert ib['ignore'] == dont_care
            # the CTW1500 test labels mark '###'; its training XML marks nothing
            assert ia['ignore'] == (dont_care and split == 'test')
            assert ia['text'] == ('###' if dont_care else ib['text'])
    assert curved > 0


def test_registered_and_data_root_required(curved_root):
    ds = DATASETS.build(
        dict(
            type='mmpse_ext.TextDetDataset',
            data_root=str(curved_root),
            ann_format='totaltext',
            split='test'))
    assert isinstance(ds, ICDAR2015Dataset) and len(ds) == 2
    with pytest.raises(TypeError):
        TextDetDataset(ann_format='totaltext')


def test_missing_and_stray_files_are_skipped_counted_and_summarised(curved_root, tmp_path,
                                                                    monkeypatch):
    root = tmp_path / 'root'
    shutil.copytree(curved_root, root, symlinks=True)
    os.remove(root / 'Images' / 'Train' / 'img1.jpg')  # annotation, no image
    os.remove(root / 'txt_format' / 'Train' / 'poly_gt_img2.txt')  # image, no annotation
    with open(root / 'txt_format' / 'Train' / 'poly_gt_img3.txt', 'a', encoding='utf-8') as f:
        f.write("x: [[1 2 3]], y: [[1 2]], ornt: [u'c'], transcriptions: [u'bad']\n")
    logged = []
    monkeypatch.setattr('mmpse_ext.datasets.icdar2015_dataset.print_log',
                        lambda msg, **kwargs: logged.append(msg))
    with pytest.warns(BadAnnotationWarning):
        ds = TextDetDataset(str(root), ann_format='totaltext', split='train')
    assert len(ds) == 2
    assert ds.bad_data_counts == {
        BadDataLog.MISSING_IMAGE: 1,
        BadDataLog.MISSING_ANNOTATION: 1,
        BadDataLog.MALFORMED_LINE: 1
    }
    [summary] = [m for m in logged if 'bad data handled' in m]
    assert 'TextDetDataset(totaltext, train)' in summary and '2 images' in summary


def test_wrong_annotation_path_is_one_clear_error(curved_root, tmp_path):
    with pytest.raises(FileNotFoundError, match='not found'):
        TextDetDataset(str(tmp_path), ann_format='ctw1500', split='train')
    with pytest.raises(NotADirectoryError, match='folder of per-image annotation files'):
        TextDetDataset(
            str(curved_root), ann_format='totaltext', ann_file='txt_format/Train/poly_gt_img1.txt')
    with pytest.raises(ValueError, match='ann_format must be one of'):
        TextDetDataset(str(curved_root), ann_format='ctw')
