"""The synthetic curved-text set: deterministic, mostly curved words, written in the CTW1500 and
Total-Text layouts (checked against MMOCR's parsers in test_parsers/), and its maker tool."""
import filecmp
import os
import os.path as osp
import subprocess
import sys

from mmpse_ext.datasets.synthetic import make_synthetic_curved

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
SMALL = dict(num_train=2, num_test=1, size_range=(200, 240), progress=lambda line: None)


def _files(root):
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            out[osp.relpath(osp.join(dirpath, name), root)] = osp.join(dirpath, name)
    return out


def test_same_seed_gives_byte_identical_files(tmp_path):
    make_synthetic_curved(str(tmp_path / 'a'), seed=7, **SMALL)
    make_synthetic_curved(str(tmp_path / 'b'), seed=7, **SMALL)
    a, b = _files(tmp_path / 'a'), _files(tmp_path / 'b')
    # per image: a jpg, a Total-Text txt, a CTW1500 link and a CTW1500 xml/txt
    assert sorted(a) == sorted(b) and len(a) == 3 * 4
    for rel in a:
        if osp.islink(a[rel]):
            assert os.readlink(a[rel]) == os.readlink(b[rel])
        else:
            assert filecmp.cmp(a[rel], b[rel], shallow=False), rel
    make_synthetic_curved(str(tmp_path / 'c'), seed=8, **SMALL)
    assert not filecmp.cmp(
        a['Images/Train/img1.jpg'], tmp_path / 'c/Images/Train/img1.jpg', shallow=False)


def test_layout_names_and_mostly_curved_words(tmp_path):
    stats = make_synthetic_curved(
        str(tmp_path),
        seed=1,
        num_train=6,
        num_test=2,
        size_range=(280, 320),
        progress=lambda line: None)
    for name in ('Images/Train/img6.jpg', 'txt_format/Train/poly_gt_img6.txt',
                 'train_images/0006.jpg', 'ctw1500_train_labels/0006.xml', 'Images/Test/img2.jpg',
                 'txt_format/Test/poly_gt_img2.txt', 'test_images/1002.jpg',
                 'gt_ctw1500/0001002.txt'):
        assert (tmp_path / name).exists(), name
    assert osp.islink(tmp_path / 'test_images' / '1002.jpg')
    assert filecmp.cmp(tmp_path / 'test_images/1002.jpg', tmp_path / 'Images/Test/img2.jpg')
    words = stats['train']['words'] + stats['test']['words']
    curved = stats['train']['curved'] + stats['test']['curved']
    assert curved >= 0.3 * words, stats


def test_maker_cli(tmp_path):
    out = tmp_path / 'curved'
    proc = subprocess.run([
        sys.executable, 'tools/dataset_converters/make_synthetic_curved.py', '--out',
        str(out), '--num-train', '1', '--num-test', '1', '--size', '200', '220'
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert 'train: 1/1 images' in proc.stderr and (out / 'gt_ctw1500' / '0001001.txt').exists()
    bad = subprocess.run([
        sys.executable, 'tools/dataset_converters/make_synthetic_curved.py', '--out',
        str(out), '--size', '300', '200'
    ],
                         cwd=REPO,
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert bad.returncode != 0 and 'Traceback' not in bad.stderr
    assert 'size_range' in bad.stderr
