#!/usr/bin/env python
"""Reduced-precision inference on the device: PSEDetector at fp32 vs fp16 vs bf16.

The flagship network (configs/pse_r50vd_icdar15.py, randomly initialised with a fixed seed: no
trained ResNet50 weights exist offline, and the cost does not depend on them) runs through
``PSEDetector(..., precision=P)`` on synthetic 736×1280 scenes. Per precision: median ms per
image (image → polygons, the detector's own host synchronisation), the largest logit
difference from fp32 relative to the largest |logit|, and the polygons' agreement with fp32
(count, one-to-one IoU > 0.5 matches, mean IoU). bf16 runs on GPUs that have it. Dry run (no
GPU): the CPU, bf16, the demo config (its test pipeline resizes to short side 320), one image.

    python .dev_scripts/gpu_acceptance/precision_check.py --device cuda --json out.json
"""
import argparse
import json
import os.path as osp
import statistics
import sys
import tempfile
import time

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'pse_r50vd_icdar15.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--config', default=CONFIG, help='model config (random weights)')
    parser.add_argument('--images', type=int, default=5, help='timed images (+1 warm-up)')
    parser.add_argument('--size', type=int, nargs=2, default=(736, 1280), metavar=('H', 'W'))
    parser.add_argument('--json', help='write the results here')
    return parser.parse_args(argv)


def matched_ious(reference, other):
    """IoUs of a greedy one-to-one IoU > 0.5 matching of two polygon lists."""
    from shapely.geometry import Polygon
    ref = [Polygon(p).buffer(0) for p in reference]
    oth = [Polygon(p).buffer(0) for p in other]
    pairs = sorted(((a.intersection(b).area / max(a.union(b).area, 1e-9), i, j)
                    for i, a in enumerate(ref) for j, b in enumerate(oth) if a.intersects(b)),
                   reverse=True)
    used_i, used_j, ious = set(), set(), []
    for iou, i, j in pairs:
        if iou > 0.5 and i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            ious.append(iou)
    return ious


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmocr.registry import MODELS

    import mmpse_ext  # noqa: F401
    from mmpse_ext.apis import PSEDetector
    from mmpse_ext.datasets.synthetic import make_scene
    from mmpse_ext.datasets.synthetic.fonts import find_fonts
    device = torch.device(args.device)
    precisions = ['fp32', 'fp16'] if device.type == 'cuda' else ['fp32', 'bf16']
    if device.type == 'cuda' and torch.cuda.is_bf16_supported():
        precisions.append('bf16')
    height, width = args.size
    fonts = find_fonts()
    scenes = [
        make_scene(np.random.default_rng(i), height, width, fonts)[0]
        for i in range(args.images + 1)
    ]
    # a fixed random flagship model, saved as a checkpoint the detector loads
    init_default_scope('mmocr')
    torch.manual_seed(0)
    cfg = Config.fromfile(args.config)
    # random weights give few confident pixels: a lower box threshold gives polygons to compare
    cfg.model.det_head.postprocessor.score_threshold = 0.5
    model = MODELS.build(cfg.model).eval()
    rows, reference = [], None
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = osp.join(tmp, 'random_flagship.pth')
        torch.save(model.state_dict(), checkpoint)
        for precision in precisions:
            detector = PSEDetector(
                cfg, checkpoint, backend='pytorch', device=str(device), precision=precision)
            times, detections, logits = [], [], []
            for index, scene in enumerate(scenes):
                start = time.perf_counter()
                detection = detector(scene)[0]
                if device.type == 'cuda':
                    torch.cuda.synchronize(device)
                if index:
                    times.append((time.perf_counter() - start) * 1e3)
                detections.append(detection)
                batch = next(detector.batches([scene]))
                logits.append(detector.backend(batch.images).float().cpu())
            row = dict(
                precision=precision,
                config=osp.basename(args.config),
                device=str(device),
                size=f'{height}x{width}',
                ms_per_image=statistics.median(times),
                polygons=sum(len(d.polygons) for d in detections))
            if reference is None:
                reference = (detections, logits)
            else:
                diff = max((a - b).abs().max().item() for a, b in zip(logits, reference[1]))
                scale = max(b.abs().max().item() for b in reference[1])
                ious = [
                    iou for det, ref in zip(detections, reference[0])
                    for iou in matched_ious(ref.polygons, det.polygons)
                ]
                row.update(
                    max_logit_diff_rel=diff / max(scale, 1e-9),
                    matched=len(ious),
                    speedup=rows[0]['ms_per_image'] / row['ms_per_image'])
                if ious:
                    row['mean_iou'] = float(np.mean(ious))
            rows.append(row)
            print(json.dumps(row), flush=True)
            del detector
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(rows=rows), f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
