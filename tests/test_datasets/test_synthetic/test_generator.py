import filecmp
import os
import os.path as osp

import pytest

from mmpse_ext.datasets.synthetic import make_synthetic_icdar2015

SMALL = dict(num_train=3, num_test=1, size_range=(160, 200), progress=lambda line: None)


def _files(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if osp.islink(osp.join(dirpath, d))]:
            path = osp.join(dirpath, name)
            out[osp.relpath(path, root)] = path
    return out


def test_same_seed_gives_byte_identical_files(tmp_path):
    make_synthetic_icdar2015(str(tmp_path / 'a'), seed=5, **SMALL)
    make_synthetic_icdar2015(str(tmp_path / 'b'), seed=5, **SMALL)
    a, b = _files(tmp_path / 'a'), _files(tmp_path / 'b')
    # 4 images, 4 gt files, 2 label files, 2 JSON files, 1 symlink
    assert sorted(a) == sorted(b) and len(a) == 4 + 4 + 2 + 2 + 1
    for rel in a:
        if osp.islink(a[rel]):
            assert os.readlink(a[rel]) == os.readlink(b[rel])
        else:
            assert filecmp.cmp(a[rel], b[rel], shallow=False), rel


def test_other_seed_differs_and_more_images_only_append(tmp_path):
    stats = make_synthetic_icdar2015(str(tmp_path / 'a'), seed=5, **SMALL)
    assert stats['train']['images'] == 3 and stats['test']['images'] == 1
    make_synthetic_icdar2015(str(tmp_path / 'b'), seed=6, **SMALL)
    more = dict(SMALL, num_train=4)
    make_synthetic_icdar2015(str(tmp_path / 'c'), seed=5, **more)
    img = 'icdar_c4_train_imgs/img_{}.jpg'
    assert not filecmp.cmp(
        tmp_path / 'a' / img.format(1), tmp_path / 'b' / img.format(1), shallow=False)
    for n in (1, 2, 3):
        assert filecmp.cmp(
            tmp_path / 'a' / img.format(n), tmp_path / 'c' / img.format(n), shallow=False)
    assert (tmp_path / 'c' / img.format(4)).exists()


def test_layout_and_raw_icdar_encoding(tmp_path):
    lines = []
    make_synthetic_icdar2015(
        str(tmp_path),
        seed=1,
        num_train=1,
        num_test=1,
        size_range=(160, 200),
        progress=lines.append)
    assert lines and str(tmp_path) in lines[-1]
    raw = (tmp_path / 'ch4_training_localization_transcription_gt' / 'gt_img_1.txt').read_bytes()
    assert raw.startswith(b'\xef\xbb\xbf') and raw.endswith(b'\r\n')
    assert b'\n' not in raw.replace(b'\r\n', b'')
    assert osp.islink(tmp_path / 'ch4_training_images')
    assert (tmp_path / 'ch4_training_images' / 'img_1.jpg').exists()
    for name in ('train_icdar2015_label.txt', 'test_icdar2015_label.txt', 'textdet_train.json',
                 'textdet_test.json', 'Challenge4_Test_Task1_GT/gt_img_1.txt',
                 'ch4_test_images/img_1.jpg'):
        assert (tmp_path / name).exists(), name


@pytest.mark.parametrize(
    'kwargs',
    [dict(num_train=-1), dict(size_range=(8, 100)),
     dict(size_range=(300, 200))])
def test_rejects_bad_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        make_synthetic_icdar2015(str(tmp_path), **dict(SMALL, **kwargs))
