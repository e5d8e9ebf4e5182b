"""Deterministic synthetic ICDAR2015-format data set (the project's embedded default)."""
import os
import os.path as osp
import sys
import time
from typing import Callable, Optional, Tuple

import numpy as np

from .fonts import find_fonts
from .scene import SceneConfig, make_scene
from .writers import SplitWriter

#: Keeps the two splits' random streams apart.
SPLIT_IDS = {'train': 0, 'test': 1}


def scene_size(rng: np.random.Generator, size_range: Tuple[int, int]) -> Tuple[int, int]:
    """``(height, width)``: long side uniform in ``size_range``, landscape 3:4 … 9:16 mostly
    (like ICDAR2015's 720x1280 frames), portrait sometimes."""
    long_side = int(rng.integers(size_range[0], size_range[1] + 1))
    short_side = int(round(long_side * rng.uniform(0.56, 0.8)))
    return (short_side, long_side) if rng.random() < 0.8 else (long_side, short_side)


def make_synthetic_icdar2015(out_dir: str = 'data/synthetic_icdar2015',
                             num_train: int = 300,
                             num_test: int = 60,
                             size_range: Tuple[int, int] = (320, 640),
                             seed: int = 0,
                             font_dir: str = '',
                             scene_cfg: Optional[SceneConfig] = None,
                             progress: Optional[Callable[[str], None]] = None) -> dict:
    """Generate the set and write it in all three formats under ``out_dir``.

    Image ``i`` of a split depends only on ``(seed, split, i)``, so the same arguments give
    byte-identical files (with the same Pillow/FreeType and OpenCV builds), and a larger
    ``num_train`` only appends images.

    Layout (the PaddleOCR one of the seed, plus the other two formats on the same images)::

        icdar_c4_train_imgs/img_N.jpg      ch4_test_images/img_N.jpg
        train_icdar2015_label.txt          test_icdar2015_label.txt          (PaddleOCR)
        ch4_training_images -> icdar_c4_train_imgs (symlink)                 (raw ICDAR2015)
        ch4_training_localization_transcription_gt/gt_img_N.txt
        Challenge4_Test_Task1_GT/gt_img_N.txt
        textdet_train.json                 textdet_test.json                 (MMOCR)

    Args:
        out_dir (str): Output root (created).
        num_train, num_test (int): Images per split.
        size_range (tuple[int, int]): Range of the long image side in pixels.
        seed (int): Base seed.
        font_dir (str): Where the DejaVu ``.ttf`` files are; ``''`` = matplotlib's.
        scene_cfg (SceneConfig, optional): Scene knobs.
        progress (callable, optional): Receives progress lines (default: stderr).

    Returns:
        dict: ``{'train': {'images': n, 'words': m, 'dont_care': k}, 'test': {...}}``.
    """
    if num_train < 0 or num_test < 0:
        raise ValueError(f'image counts must be >= 0, got {num_train}, {num_test}')
    if not 16 <= size_range[0] <= size_range[1]:
        raise ValueError(f'size_range must be (low, high) with 16 <= low <= high, got {size_range}')
    fonts = find_fonts(font_dir)
    scene_cfg = scene_cfg or SceneConfig()
    progress = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    os.makedirs(out_dir, exist_ok=True)
    stats = {}
    for split, count in (('train', num_train), ('test', num_test)):
        writer = SplitWriter(out_dir, split)
        words = dont_care = 0
        start = time.perf_counter()
        for i in range(count):
            rng = np.random.default_rng([seed, SPLIT_IDS[split], i])
            height, width = scene_size(rng, size_range)
            img, regions = make_scene(rng, height, width, fonts, scene_cfg)
            writer.add(i + 1, img, regions, jpeg_quality=int(rng.integers(80, 96)))
            words += len(regions)
            dont_care += sum(r.text == '###' for r in regions)
            done = i + 1
            if done == count or done % 50 == 0:
                rate = done / max(time.perf_counter() - start, 1e-9)
                progress(f'[synthetic icdar2015] {split}: {done}/{count} images '
                         f'({rate:.1f} img/s)')
        writer.finish()
        stats[split] = dict(images=count, words=words, dont_care=dont_care)
    progress(f'[synthetic icdar2015] wrote {osp.abspath(out_dir)}: {stats}')
    return stats
