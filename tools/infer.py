#!/usr/bin/env python
"""Detect text in images: polygons as JSON and ICDAR2015 submission TXT, plus drawings.

    python tools/infer.py demo.jpg --config configs/pse_r50vd_icdar15.py --checkpoint CKPT
    python tools/infer.py data/icdar2015/ch4_test_images --config CFG --checkpoint CKPT
    python tools/infer.py "imgs/*.jpg" --config CFG --checkpoint converted_from_paddle.pth

For every input image ``<name>.<ext>`` it writes, under ``--out-dir``:

* ``preds/<name>.json``: ``{"img_path", "polygons": [[x1, y1, x2, y2, ...], ...], "scores"}``,
  polygons in original image pixels, as the model's postprocessor returns them;
* ``submit/res_<name>.txt``: one ``x1,y1,x2,y2,x3,y3,x4,y4`` line per detection, the format of the
  ICDAR2015 challenge 4 submission (integer corners in clockwise order; polygons with more than
  four points are reduced to their minimum-area rectangle). Zip ``submit/*.txt`` to submit.
* ``vis/<name>.jpg``: the image with the detections drawn (unless ``--no-vis``).

The model is built from ``--config`` (its test pipeline, without annotation loading) and loaded
from ``--checkpoint``: a Runner checkpoint or a plain state dict such as the one
``tools/convert_paddle_weights.py`` writes.
"""
import argparse
import glob
import json
import os
import os.path as osp
from typing import List, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint
from mmengine.utils import ProgressBar

import mmpse_ext  # noqa: F401  (registers our modules even if a config lacks custom_imports)

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Detect text in images with a PSENet model')
    parser.add_argument('inputs', nargs='+',
                        help='image files, folders (searched non-recursively) or glob patterns')
    parser.add_argument('--config', required=True, help='model config file')
    parser.add_argument('--checkpoint', required=True,
                        help='checkpoint (.pth, Runner or converted from Paddle)')
    parser.add_argument('--out-dir', default='work_dirs/infer', help='output directory')
    parser.add_argument('--device', default=None,
                        help='torch device, e.g. cpu or cuda:0 (default: cuda if available)')
    parser.add_argument('--score-thr', type=float, default=0.0,
                        help='drop detections whose score is below this (default: keep all)')
    parser.add_argument('--no-vis', action='store_true', help='do not write vis/*.jpg')
    return parser.parse_args(argv)


def collect_images(inputs: Sequence[str]) -> List[str]:
    """Expand image paths, folders and glob patterns into a sorted, de-duplicated file list.

    Raises:
        FileNotFoundError: an input matches no image.
    """
    images = []
    for item in inputs:
        if osp.isdir(item):
            found = [osp.join(item, name) for name in os.listdir(item)
                     if name.lower().endswith(IMAGE_EXTENSIONS)]
        elif osp.isfile(item):
            found = [item]
        else:
            found = [path for path in glob.glob(item) if path.lower().endswith(IMAGE_EXTENSIONS)]
        if not found:
            raise FileNotFoundError(f'input {item!r} is not an image, a folder with images or a '
                                    'glob pattern matching images')
        images.extend(sorted(found))
    return list(dict.fromkeys(images))


def build_inference_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline without annotation loading (no ground truth at inference)."""
    pipeline = [dict(t) for t in cfg.test_dataloader.dataset.pipeline
                if not t['type'].split('.')[-1].startswith('LoadOCRAnnotations')]
    return Compose(pipeline)


def load_model(cfg: Config, checkpoint: str, device: str) -> torch.nn.Module:
    """Build ``cfg.model`` and load ``checkpoint`` into it.

    Accepts a Runner checkpoint (``{'state_dict': ..., 'meta': ...}``) or a bare state dict.
    BatchNorm's ``num_batches_tracked`` counters may be absent (Paddle has none); any other
    missing or unexpected key is an error, since it means the config and the weights disagree.
    """
    from mmocr.registry import MODELS
    model = MODELS.build(cfg.model)
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'--checkpoint {checkpoint!r} does not exist')
    state = _load_checkpoint(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    state = {key[len('module.'):] if key.startswith('module.') else key: value
             for key, value in state.items()}
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith('num_batches_tracked')]
    if missing or result.unexpected_keys:
        raise RuntimeError(
            f'checkpoint {checkpoint} does not match the model of {cfg.filename}: '
            f'{len(missing)} missing keys (first: {missing[:5]}), '
            f'{len(result.unexpected_keys)} unexpected keys '
            f'(first: {result.unexpected_keys[:5]})')
    return model.to(device).eval()


def clockwise_quad(polygon: np.ndarray) -> np.ndarray:
    """Reduce a polygon to 4 integer corners in clockwise order (image coordinates, y down).

    Args:
        polygon (np.ndarray[N, 2], float): N >= 3 points.

    Returns:
        np.ndarray[4, 2], int64: the polygon itself if N == 4, else its minimum-area rectangle;
        ordered so that the ICDAR2015 script's clockwise check (sum over edges of
        (x2 - x1) * (y2 + y1) <= 0) passes.
    """
    if len(polygon) != 4:
        polygon = cv2.boxPoints(cv2.minAreaRect(polygon.astype(np.float32)))
    quad = np.rint(polygon).astype(np.int64)
    x, y = quad[:, 0], quad[:, 1]
    edge_sum = np.sum((np.roll(x, -1) - x) * (np.roll(y, -1) + y))
    return quad[::-1].copy() if edge_sum > 0 else quad


def draw_polygons(image: np.ndarray, polygons: Sequence[np.ndarray]) -> np.ndarray:
    """Return a copy of the BGR image with every polygon outlined in green."""
    canvas = image.copy()
    thickness = max(2, round(max(image.shape[:2]) / 300))
    for polygon in polygons:
        points = np.rint(polygon).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [points], isClosed=True, color=(0, 255, 0), thickness=thickness)
    return canvas


@torch.no_grad()
def predict(model: torch.nn.Module, pipeline: Compose, img_path: str):
    """Run the model on one image file.

    Returns:
        tuple[list[np.ndarray[N_i, 2] float32], np.ndarray[N] float32]: polygons in original
        image pixels and their scores.
    """
    data = pseudo_collate([pipeline(dict(img_path=img_path))])
    sample = model.test_step(data)[0]
    pred = sample.pred_instances
    polygons = [np.asarray(p, dtype=np.float32).reshape(-1, 2) for p in pred.polygons]
    scores = pred.scores
    scores = (scores.cpu().numpy() if isinstance(scores, torch.Tensor)
              else np.asarray(scores)).astype(np.float32).reshape(-1)
    return polygons, scores


def main(argv=None):
    args = parse_args(argv)
    images = collect_images(args.inputs)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmocr'))
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = load_model(cfg, args.checkpoint, device)
    pipeline = build_inference_pipeline(cfg)

    for sub in ('preds', 'submit') + (() if args.no_vis else ('vis',)):
        os.makedirs(osp.join(args.out_dir, sub), exist_ok=True)
    progress = ProgressBar(len(images)) if len(images) > 1 else None
    num_detections = 0
    for img_path in images:
        polygons, scores = predict(model, pipeline, img_path)
        keep = [i for i, score in enumerate(scores) if score >= args.score_thr]
        polygons, scores = [polygons[i] for i in keep], scores[keep]
        num_detections += len(polygons)
        name = osp.splitext(osp.basename(img_path))[0]
        with open(osp.join(args.out_dir, 'preds', f'{name}.json'), 'w') as f:
            json.dump(dict(img_path=img_path,
                           polygons=[p.reshape(-1).round(2).tolist() for p in polygons],
                           scores=[round(float(s), 4) for s in scores]), f)
        with open(osp.join(args.out_dir, 'submit', f'res_{name}.txt'), 'w') as f:
            for polygon in polygons:
                f.write(','.join(str(v) for v in clockwise_quad(polygon).reshape(-1)) + '\n')
        if not args.no_vis:
            image = cv2.imread(img_path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
            cv2.imwrite(osp.join(args.out_dir, 'vis', f'{name}.jpg'),
                        draw_polygons(image, polygons))
        if progress is not None:
            progress.update()
    print(f'\n{len(images)} images, {num_detections} detections -> {args.out_dir}/'
          '{preds,submit' + ('' if args.no_vis else ',vis') + '}')


if __name__ == '__main__':
    main()
