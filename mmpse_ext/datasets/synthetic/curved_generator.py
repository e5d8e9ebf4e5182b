"""Deterministic synthetic curved-text set in the CTW1500 and Total-Text release layouts."""
import os
import os.path as osp
import sys
import time
from dataclasses import replace
from typing import Callable, Optional, Tuple

import cv2
import numpy as np

from .curved_writers import write_ctw1500_test_txt, write_ctw1500_xml, write_totaltext_txt
from .fonts import find_fonts
from .generator import SPLIT_IDS, scene_size
from .scene import SceneConfig, make_scene

#: Scenes of the curved set: about half the lines bent along arcs (the ICDAR2015-like set has
#: 12 %), fewer touching and don't-care lines.
CURVED_SCENE = SceneConfig(curved_prob=0.5, touching_prob=0.1, dont_care_prob=0.1)

#: Keeps this set's random streams apart from the ICDAR2015-format set's.
CURVED_STREAM = 1

#: Folder names per split (relative to the output root): Total-Text's archive folders and
#: CTW1500's (MMOCR's preparer downloads); the CTW1500 image names link to the Total-Text files.
CURVED_LAYOUT = {
    'train':
    dict(
        tt_img_dir='Images/Train',
        tt_gt_dir='txt_format/Train',
        ctw_img_dir='train_images',
        ctw_gt_dir='ctw1500_train_labels'),
    'test':
    dict(
        tt_img_dir='Images/Test',
        tt_gt_dir='txt_format/Test',
        ctw_img_dir='test_images',
        ctw_gt_dir='gt_ctw1500'),
}


def ctw1500_stem(split: str, index: int) -> str:
    """CTW1500's image names: training ``0001`` …, test ``1001`` … (index from 1)."""
    return f'{index if split == "train" else 1000 + index:04d}'


def make_synthetic_curved(out_dir: str = 'data/synthetic_curved',
                          num_train: int = 300,
                          num_test: int = 60,
                          size_range: Tuple[int, int] = (320, 640),
                          seed: int = 0,
                          font_dir: str = '',
                          scene_cfg: Optional[SceneConfig] = None,
                          progress: Optional[Callable[[str], None]] = None) -> dict:
    """Generate curved-text scenes and write them in both curved-text release layouts.

    Image ``i`` of a split depends only on ``(seed, split, i)``: the same arguments give
    byte-identical files and a larger count only appends images. Layout::

        Images/Train/imgN.jpg              Images/Test/imgN.jpg               (Total-Text)
        txt_format/Train/poly_gt_imgN.txt  txt_format/Test/poly_gt_imgN.txt
        train_images/NNNN.jpg -> ../Images/Train/imgN.jpg                     (CTW1500)
        ctw1500_train_labels/NNNN.xml      (N = 0001 …)
        test_images/NNNN.jpg -> ../Images/Test/imgN.jpg
        gt_ctw1500/000NNNN.txt             (N = 1001 …, named as in the test label download)

    Curved words have 14 points (7 per side); straight ones 4 in Total-Text and 14 in
    CTW1500 (its annotations always have 14). Don't-care words are ``#`` (Total-Text) and
    ``###`` (CTW1500).

    Args:
        out_dir (str): Output root (created).
        num_train, num_test (int): Images per split.
        size_range (tuple[int, int]): Range of the long image side in pixels.
        seed (int): Base seed.
        font_dir (str): Where the DejaVu ``.ttf`` files are; ``''`` = matplotlib's.
        scene_cfg (SceneConfig, optional): Scene knobs (default :data:`CURVED_SCENE`).
        progress (callable, optional): Receives progress lines (default: stderr).

    Returns:
        dict: ``{'train': {'images': n, 'words': m, 'curved': c, 'dont_care': k}, 'test': ..}``.
    """
    if num_train < 0 or num_test < 0:
        raise ValueError(f'image counts must be >= 0, got {num_train}, {num_test}')
    if not 16 <= size_range[0] <= size_range[1]:
        raise ValueError(f'size_range must be (low, high) with 16 <= low <= high, got {size_range}')
    fonts = find_fonts(font_dir)
    scene_cfg = replace(scene_cfg or CURVED_SCENE)
    progress = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    stats = {}
    for split, count in (('train', num_train), ('test', num_test)):
        names = CURVED_LAYOUT[split]
        for key in names.values():
            os.makedirs(osp.join(out_dir, key), exist_ok=True)
        words = curved = dont_care = 0
        start = time.perf_counter()
        for i in range(1, count + 1):
            rng = np.random.default_rng([seed, SPLIT_IDS[split], i - 1, CURVED_STREAM])
            height, width = scene_size(rng, size_range)
            img, regions = make_scene(rng, height, width, fonts, scene_cfg)
            tt_name = f'img{i}.jpg'
            tt_path = osp.join(out_dir, names['tt_img_dir'], tt_name)
            if not cv2.imwrite(tt_path, img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(80, 96))]):
                raise OSError(f'could not write {tt_path}')
            write_totaltext_txt(
                osp.join(out_dir, names['tt_gt_dir'], f'poly_gt_img{i}.txt'), regions)
            stem = ctw1500_stem(split, i)
            link = osp.join(out_dir, names['ctw_img_dir'], f'{stem}.jpg')
            if osp.lexists(link):
                os.remove(link)
            os.symlink(osp.relpath(tt_path, osp.dirname(link)), link)
            if split == 'train':
                write_ctw1500_xml(
                    osp.join(out_dir, names['ctw_gt_dir'], f'{stem}.xml'), f'{stem}.jpg', regions)
            else:
                write_ctw1500_test_txt(
                    osp.join(out_dir, names['ctw_gt_dir'], f'000{stem}.txt'), regions)
            words += len(regions)
            curved += sum(len(r.points) > 4 for r in regions)
            dont_care += sum(r.text == '###' for r in regions)
            if i == count or i % 50 == 0:
                rate = i / max(time.perf_counter() - start, 1e-9)
                progress(f'[synthetic curved] {split}: {i}/{count} images ({rate:.1f} img/s)')
        stats[split] = dict(images=count, words=words, curved=curved, dont_care=dont_care)
    progress(f'[synthetic curved] wrote {osp.abspath(out_dir)}: {stats}')
    return stats
