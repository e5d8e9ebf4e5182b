"""Draw PSE training targets over augmented samples, to check them by eye.

    # 4 samples of the synthetic demo set:
    python tools/visualizations/visualize_targets.py
    python tools/visualizations/visualize_targets.py configs/_base_/datasets/icdar2015.py --num 6 \
        --cfg-options train_dataloader.dataset.data_root=/path --out work_dirs/targets.png

Each row shows one sample: left, the loaded image with its annotations (green = text, red =
ignored); right, the same sample after the training pipeline (colour jitter, scale, flip,
rotation, targets, crop) with the targets overlaid: kernel level as a colour (blue = text map
only … red = smallest kernel), ignored pixels of the training mask hatched in red, and the
transformed polygons outlined (white = text, red = ignored).
"""
import argparse
import copy
import os
import os.path as osp

import cv2
import numpy as np
from mmengine import Config, DictAction
from mmengine.registry import init_default_scope

import mmpse_ext  # noqa: F401  (registers the transforms and the dataset)
from mmpse_ext.registry import DATASETS

ROW_HEIGHT = 360


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'config', nargs='?', default='configs/_base_/datasets/synthetic_icdar2015_demo.py')
    parser.add_argument('--num', type=int, default=4, help='number of samples')
    parser.add_argument('--seed', type=int, default=0, help='augmentation seed')
    parser.add_argument('--out', default='work_dirs/visualize_targets.png')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override config entries, e.g. train_dataloader.dataset.data_root=')
    return parser.parse_args(argv)


def draw_polygons(img, polygons, ignored, thickness=2):
    """Outline polygons in place: white/green for text, red for ignored ones."""
    for polygon, ignore in zip(polygons, ignored):
        points = np.round(np.asarray(polygon).reshape(-1, 2)).astype(np.int32)
        cv2.polylines(img, [points], True, (0, 0, 255) if ignore else (0, 255, 0), thickness)


def overlay_targets(results: dict) -> np.ndarray:
    """The augmented image with kernel levels, the ignore mask and polygons drawn on it."""
    img = np.ascontiguousarray(results['img']).copy()
    kernels, mask = results['gt_kernels'], results['gt_train_mask']
    level = kernels.astype(np.int32).sum(axis=0)  # 0 = background, K = smallest kernel
    colors = cv2.applyColorMap((level * (255 // max(kernels.shape[0], 1))).astype(np.uint8),
                               cv2.COLORMAP_JET)
    text = level > 0
    img[text] = (0.35 * img[text] + 0.65 * colors[text]).astype(np.uint8)
    hatch = ((np.add.outer(np.arange(img.shape[0]), np.arange(img.shape[1])) // 4) % 2 == 0)
    ignored = (mask == 0) & hatch
    img[ignored] = (0.4 * img[ignored] + 0.6 * np.array([0, 0, 255])).astype(np.uint8)
    draw_polygons(img, results.get('gt_polygons', []), results.get('gt_ignored', []), 1)
    return img


def fit_height(img, height=ROW_HEIGHT):
    return cv2.resize(img, (max(1, round(img.shape[1] * height / img.shape[0])), height))


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmocr'))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    transforms = dataset.pipeline.transforms
    if type(transforms[-1]).__name__ != 'PackPSEInputs':
        raise ValueError('expected the train pipeline to end with mmpse_ext.PackPSEInputs')
    np.random.seed(args.seed)
    rows = []
    for idx in range(min(args.num, len(dataset))):
        results = copy.deepcopy(dataset.get_data_info(idx))
        original = None
        for transform in transforms[:-1]:
            results = transform(results)
            if results is None:
                raise RuntimeError(f'{dataset.get_data_info(idx)["img_path"]}: pipeline gave None')
            if original is None and 'gt_polygons' in results:  # right after loading
                original = results['img'].copy()
                draw_polygons(original, results['gt_polygons'], results['gt_ignored'])
        kernel_areas = results['gt_kernels'].reshape(results['gt_kernels'].shape[0], -1).sum(1)
        print(f'sample {idx}: {osp.basename(results["img_path"])} crop {results["img_shape"]}, '
              f'kernel areas {kernel_areas.tolist()}, ignored px '
              f'{int((results["gt_train_mask"] == 0).sum())}')
        rows.append(
            np.hstack([
                fit_height(original),
                np.full((ROW_HEIGHT, 8, 3), 255, np.uint8),
                fit_height(overlay_targets(results))
            ]))
    width = max(r.shape[1] for r in rows)
    canvas = np.vstack(
        [np.pad(r, ((0, 8), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows])
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    cv2.imwrite(args.out, canvas)
    print(f'wrote {args.out} ({canvas.shape[1]}x{canvas.shape[0]})')


if __name__ == '__main__':
    main()
