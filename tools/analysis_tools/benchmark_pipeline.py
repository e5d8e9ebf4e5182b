"""Benchmark the PSENet training data pipeline on synthetic 1280x720 scenes.

Two measurements, both on one core (OpenCV and torch limited to one thread, as in one
dataloader worker):

1. Target generation + crop (``PSETargets`` + ``TextAwareRandomCrop(640)``, the recipe's
   defaults) per 1280x720 image with 12 word polygons, in the recipe's order (targets, then
   crop) and in the cheaper order (crop, then targets on the window), against a naive
   implementation of PaddleOCR's ``MakePseGt`` + ``RandomCropImgMask`` measured in the same run
   (one float32 full-size map per rate, integer ``fillPoly`` per polygon, text extent by
   ``np.where`` over the whole map). The recipe order must give the baseline's maps exactly
   and must not be slower than it (exit status 1 otherwise).
2. Images/s of one worker for the recipe's whole train pipeline (decode, colour jitter, random
   scale [0.5, 3], flip, rotation, min short side 640, targets, 640 crop, packing), with and
   without target generation (targets + text-aware crop replaced by a plain random crop).

Times are CPU seconds of this thread (``time.thread_time``), robust to other jobs on a shared
machine; wall-clock medians and the load average are printed too.

Usage: python tools/analysis_tools/benchmark_pipeline.py [--images 20] [--repeats 5] [--seed 0]
"""
import argparse
import copy
import os
import statistics
import tempfile
import time

import cv2
import numpy as np
import pyclipper
import torch
from mmengine.registry import init_default_scope
from shapely.geometry import Polygon

from mmpse_ext.datasets import ICDAR2015Dataset
from mmpse_ext.datasets.synthetic import SceneConfig, make_scene
from mmpse_ext.datasets.synthetic.fonts import find_fonts
from mmpse_ext.datasets.synthetic.writers import SplitWriter
from mmpse_ext.datasets.transforms import PSETargets, TextAwareRandomCrop, paddle_shrink_rates

HEIGHT, WIDTH, WORDS, CROP = 720, 1280, 12, 640


def make_scenes(num: int, seed: int):
    """``num`` 1280x720 scenes, each cut to its first 12 words (### ones ignored)."""
    fonts = find_fonts()
    cfg = SceneConfig(lines_per_megapixel=12.0, max_text_height_ratio=0.08)
    scenes = []
    i = 0
    while len(scenes) < num:
        rng = np.random.default_rng([seed, 7, i])
        i += 1
        img, regions = make_scene(rng, HEIGHT, WIDTH, fonts, cfg)
        if len(regions) >= WORDS:
            scenes.append((img, regions[:WORDS]))
    return scenes


def target_inputs(img, regions) -> dict:
    return dict(
        img=img,
        img_shape=img.shape[:2],
        gt_polygons=[r.points.reshape(-1).astype(np.float32) for r in regions],
        gt_ignored=np.array([r.text == '###' for r in regions]))


def naive_targets(results: dict):
    """The baseline: PaddleOCR's MakePseGt written plainly (per rate a float32 full-size map,
    per polygon an integer fillPoly, every polygon drawn); returns ``(kernels[7, H, W] float32
    in {0, 1} in our channel layout, mask[H, W] uint8)``."""
    h, w = results['img'].shape[:2]
    polygons = [np.asarray(p, np.float32).reshape(-1, 2) for p in results['gt_polygons']]
    ignored = list(results['gt_ignored'])
    maps = []
    for rate in paddle_shrink_rates():
        kernel = np.zeros((h, w), np.float32)
        for i, points in enumerate(polygons):
            shape = Polygon(points)
            distance = shape.area * (1 - rate * rate) / (shape.length + 1e-6)
            offset = pyclipper.PyclipperOffset()
            offset.AddPath([tuple(p) for p in points], pyclipper.JT_ROUND,
                           pyclipper.ET_CLOSEDPOLYGON)
            shrunk = offset.Execute(-distance)
            if not shrunk:
                ignored[i] = True
                continue
            cv2.fillPoly(kernel, [np.array(shrunk[0]).astype(np.int32)], i + 1)
        maps.append(kernel)
    kernels = np.array([maps[0]] + maps[:6])
    kernels[kernels > 0] = 1
    mask = np.ones((h, w), np.uint8)
    for i, points in enumerate(polygons):
        if ignored[i]:
            cv2.fillPoly(mask, [points.astype(np.int32)], 0)
    return kernels, mask


def naive_targets_and_crop(results: dict, crop=CROP, rng=None):
    """The baseline: :func:`naive_targets`, then a crop whose text range comes from
    ``np.where`` over the whole text map."""
    img = results['img']
    h, w = img.shape[:2]
    kernels, mask = naive_targets(results)
    text = kernels[0]
    if text.max() > 0 and rng.random() > 3 / 8:
        where = np.where(text > 0)
        top = np.maximum(np.min(where, axis=1) - crop, 0)
        bottom = np.minimum(np.maximum(np.max(where, axis=1) - crop, 0), (h - crop, w - crop))
        y = rng.integers(top[0], bottom[0] + 1) if top[0] < bottom[0] else 0
        x = rng.integers(top[1], bottom[1] + 1) if top[1] < bottom[1] else 0
    else:
        y, x = rng.integers(0, h - crop + 1), rng.integers(0, w - crop + 1)
    return img[y:y + crop, x:x + crop], kernels[:, y:y + crop, x:x + crop], \
        mask[y:y + crop, x:x + crop]


def same_work_check(inputs) -> bool:
    """Whether our targets equal the baseline's on every pixel of every image."""
    for item in inputs:
        ours = PSETargets()(copy.copy(item))
        kernels, mask = naive_targets(item)
        if not (np.array_equal(ours['gt_kernels'], kernels.astype(np.uint8))
                and np.array_equal(ours['gt_train_mask'], mask)):
            return False
    return True


def time_per_call(fn, inputs, repeats):
    """Median CPU ms and wall ms per call over ``repeats`` passes over ``inputs``."""
    cpu, wall = [], []
    for _ in range(repeats):
        for item in inputs:
            arg = copy.copy(item)
            t_cpu, t_wall = time.thread_time(), time.perf_counter()
            fn(arg)
            cpu.append(time.thread_time() - t_cpu)
            wall.append(time.perf_counter() - t_wall)
    return 1e3 * statistics.median(cpu), 1e3 * statistics.median(wall)


def bench_targets(scenes, repeats):
    targets, crop = PSETargets(), TextAwareRandomCrop(crop_size=CROP)
    rng = np.random.default_rng(0)
    inputs = [target_inputs(img, regions) for img, regions in scenes]
    recipe = time_per_call(lambda r: crop(targets(r)), inputs, repeats)
    window = time_per_call(lambda r: targets(crop(r)), inputs, repeats)
    naive = time_per_call(lambda r: naive_targets_and_crop(r, rng=rng), inputs, repeats)
    print(f'\n[1] target generation + {CROP} crop, {WIDTH}x{HEIGHT}, {WORDS} words, '
          f'{len(inputs)} images x {repeats}, 7 maps, one thread')
    print(f'    PSETargets then TextAwareRandomCrop (recipe order): {recipe[0]:6.2f} ms CPU '
          f'({recipe[1]:6.2f} ms wall)')
    print(f'    TextAwareRandomCrop then PSETargets (window only):  {window[0]:6.2f} ms CPU '
          f'({window[1]:6.2f} ms wall)')
    print(f'    naive MakePseGt + RandomCropImgMask:                {naive[0]:6.2f} ms CPU '
          f'({naive[1]:6.2f} ms wall)')
    same = same_work_check(inputs)
    print(f'    our targets equal the baseline\'s on every pixel: {same}')
    print(f'    speed-up vs baseline: {naive[0] / recipe[0]:.2f}x (recipe order), '
          f'{naive[0] / window[0]:.2f}x (window only)')
    passed = same and recipe[0] <= naive[0]
    print(f'    identical and not slower than the baseline: {"PASS" if passed else "FAIL"}')
    return passed


def recipe_pipeline(with_targets: bool):
    steps = [
        dict(type='LoadImageFromFile', color_type='color_ignore_orientation', ignore_empty=True),
        dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True, with_label=True),
        dict(type='TorchVisionWrapper', op='ColorJitter', brightness=32.0 / 255, saturation=0.5),
        dict(type='mmpse_ext.RandomScale', scale_range=(0.5, 3.0)),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='mmpse_ext.RandomRotateKeepSize', max_angle=10),
        dict(type='mmpse_ext.MinShortSideResize', min_short_side=640),
    ]
    if with_targets:  # the recipe configs' order
        steps += [
            dict(type='mmpse_ext.PSETargets'),
            dict(type='mmpse_ext.TextAwareRandomCrop', crop_size=CROP)
        ]
    else:
        steps += [PlainRandomCrop()]
    return steps + [dict(type='mmpse_ext.PackPSEInputs')]


class PlainRandomCrop:
    """Uniform 640 crop of the image, polygons shifted (the "without targets" baseline)."""

    def __call__(self, results):
        h, w = results['img'].shape[:2]
        y, x = np.random.randint(0, h - CROP + 1), np.random.randint(0, w - CROP + 1)
        results['img'] = results['img'][y:y + CROP, x:x + CROP]
        results['img_shape'] = (CROP, CROP)
        results['gt_polygons'] = [(p.reshape(-1, 2) - (x, y)).reshape(-1)
                                  for p in results['gt_polygons']]
        return results


def bench_pipeline(scenes, repeats, seed):
    print(f'\n[2] whole train pipeline per worker (decode ... pack), {WIDTH}x{HEIGHT} JPEGs')
    with tempfile.TemporaryDirectory() as root:
        writer = SplitWriter(root, 'train')
        for i, (img, regions) in enumerate(scenes):
            writer.add(i + 1, img, regions, jpeg_quality=90)
        writer.finish()
        results = {}
        for with_targets in (False, True):
            ds = ICDAR2015Dataset(root, split='train', pipeline=recipe_pipeline(with_targets))
            # same scale/flip/angle draws for both variants: reseed per sample
            seeds = iter(range(seed, seed + 10**6))

            def fetch(idx):
                np.random.seed(next(seeds))
                torch.manual_seed(idx)
                return ds[idx]

            cpu, wall = time_per_call(fetch, list(range(len(ds))), repeats)
            results[with_targets] = cpu
            name = 'with targets   ' if with_targets else 'without targets'
            print(f'    {name}: {1e3 / cpu:6.1f} images/s per worker ({cpu:6.2f} ms CPU, '
                  f'{wall:6.2f} ms wall per image)')
        share = (results[True] - results[False]) / results[True]
        print(f'    target generation costs {results[True] - results[False]:.2f} ms per image '
              f'({100 * share:.0f} % of the pipeline)')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=20)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    init_default_scope('mmocr')
    print(f'load average before: {os.getloadavg()}')
    scenes = make_scenes(args.images, args.seed)
    passed = bench_targets(scenes, args.repeats)
    bench_pipeline(scenes, args.repeats, args.seed)
    print(f'\nload average after: {os.getloadavg()}')
    raise SystemExit(0 if passed else 1)


if __name__ == '__main__':
    main()
