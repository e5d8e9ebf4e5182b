#!/usr/bin/env python
"""Accuracy of reduced-precision inference: fp32 vs bf16 (PyTorch) vs int8 (ONNX Runtime).

    python tools/analysis_tools/precision_accuracy.py configs/pse_r18_synthetic_demo.py \\
        work_dirs/demo/epoch_12.pth --data-root data/synthetic_icdar2015

Every precision runs through ``PSEDetector`` on the config's test split and is scored by the
config's own ``test_evaluator`` (the ICDAR2015 protocol for our configs), fed with the
detector's polygons as ``tools/test.py`` feeds it the model's. The int8 model is exported
(``export_onnx``) and quantized (``quantize_onnx``, calibrated on ``--calib``, default the
training images of ``--data-root``) into a temporary folder unless ``--int8`` names one.
Against fp32 it reports: precision, recall, hmean and their change, the RMS difference of the
text logits, and how the polygons agree: the share of fp32 polygons matched one-to-one
(IoU > 0.5) by the other precision's and the mean IoU of the matched pairs. Gates (exit 1 when
one fails): |hmean - fp32| <= 0.005 for bf16 and <= 0.01 for int8.

``--noise-floor SIGMA`` adds rows of fp32 with Gaussian noise of std SIGMA added to its logits
(one row per ``--noise-seeds`` seed, no gate): how far the hmean moves by chance under a
perturbation of that size, to read the gates' deltas against (docs/benchmarks.md).
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import time

import numpy as np
import torch

GATES = dict(bf16=0.005, fp16=0.005, int8=0.01)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='.pth checkpoint')
    parser.add_argument('--data-root', help="the test set's data_root (default: the config's)")
    parser.add_argument(
        '--precisions',
        nargs='+',
        default=['fp32', 'bf16', 'int8'],
        choices=['fp32', 'bf16', 'fp16', 'int8'])
    parser.add_argument('--int8', help='an int8 .onnx to use instead of quantizing here')
    parser.add_argument(
        '--calib',
        nargs='+',
        help='calibration images for the int8 model (default: '
        'DATA_ROOT/ch4_training_images)')
    parser.add_argument(
        '--max-calib-images', type=int, default=8, help='calibration images used at most (0 = all)')
    parser.add_argument(
        '--keep-float',
        nargs='*',
        default=None,
        help='convolutions the bf16/fp16 and int8 models keep float (default: first_conv '
        'last_conv; --keep-float alone: none, every convolution at the reduced precision)')
    parser.add_argument('--threads', type=int, default=None, help='torch / ORT threads')
    parser.add_argument(
        '--noise-floor',
        type=float,
        nargs='*',
        default=[],
        metavar='SIGMA',
        help='add rows: fp32 with N(0, SIGMA^2) noise on its logits')
    parser.add_argument('--noise-seeds', type=int, default=4, help='noise rows per SIGMA')
    parser.add_argument('--json', help='write the table here')
    return parser.parse_args(argv)


def polygon_agreement(reference, other):
    """(matched, mean IoU of matched pairs) of a greedy one-to-one IoU > 0.5 matching."""
    from shapely.geometry import Polygon
    ref = [Polygon(p).buffer(0) for p in reference]
    oth = [Polygon(p).buffer(0) for p in other]
    pairs = []
    for i, a in enumerate(ref):
        for j, b in enumerate(oth):
            if a.intersects(b):
                union = a.union(b).area
                iou = a.intersection(b).area / union if union > 0 else 0.0
                if iou > 0.5:
                    pairs.append((iou, i, j))
    used_i, used_j, ious = set(), set(), []
    for iou, i, j in sorted(pairs, reverse=True):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            ious.append(iou)
    return len(ious), ious


class TextLogits:
    """Wraps a detector's backend; keeps the text-logit map of every call (float32, CPU)."""

    def __init__(self, backend):
        self.backend, self.maps = backend, []

    def __call__(self, images):
        logits = self.backend(images)
        self.maps.append(logits[:, 0].detach().float().cpu())
        return logits


class NoisyLogits:
    """fp32 logits + Gaussian noise of std ``sigma`` (the ``--noise-floor`` rows)."""

    def __init__(self, backend, sigma: float, seed: int):
        self.backend, self.sigma = backend, sigma
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, images):
        logits = self.backend(images)
        noise = torch.randn(logits.shape, generator=self.generator) * self.sigma
        return logits + noise.to(logits.device)


def rms_difference(maps, reference_maps) -> float:
    """RMS of the differences of two lists of same-shaped maps."""
    squared = sum((a - b).double().pow(2).sum().item() for a, b in zip(maps, reference_maps))
    return (squared / max(1, sum(m.numel() for m in maps)))**0.5


def evaluate(detector, backend, cfg, dataset):
    """Predictions of every test image with ``detector`` running ``backend``, the evaluator's
    metrics, seconds per image and the text logit maps."""
    from mmengine.evaluator import Evaluator
    from mmengine.structures import InstanceData
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = dataset.metainfo
    detector.backend = TextLogits(backend)
    detections, seconds = [], 0.0
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        start = time.perf_counter()
        detection = detector(sample.img_path)[0]
        seconds += time.perf_counter() - start
        detections.append(detection)
        sample.pred_instances = InstanceData(
            polygons=[p.reshape(-1) for p in detection.polygons],
            scores=torch.from_numpy(detection.scores))
        evaluator.process([sample])
    metrics = evaluator.evaluate(len(dataset))
    return detections, metrics, seconds / max(1, len(dataset)), detector.backend.maps


def build_int8(args, cfg, work_dir):
    """Export + quantize the checkpoint; returns the int8 file."""
    from mmpse_ext.apis import PSELogitsNetwork, export_onnx, load_model
    from mmpse_ext.apis.onnx_quantization import quantize_onnx
    float_file = osp.join(work_dir, 'float.onnx')
    export_onnx(PSELogitsNetwork(load_model(cfg, args.checkpoint, 'cpu')), float_file)
    data_root = cfg.test_dataloader.dataset.data_root
    calib = args.calib or [osp.join(data_root, 'ch4_training_images')]
    int8_file = osp.join(work_dir, 'int8.onnx')
    options = {} if args.keep_float is None else dict(keep_float=args.keep_float)
    report = quantize_onnx(
        cfg, float_file, int8_file, calib, max_images=args.max_calib_images or None, **options)
    print(
        f'int8: {report.num_quantized_convs} int8 convolutions, float: {report.float_nodes}, '
        f'calibrated on {report.num_calib_images} images',
        flush=True)
    return int8_file


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmocr.registry import DATASETS

    from mmpse_ext.apis import (OnnxRuntimeLogitsBackend, PSEDetector, TorchLogitsBackend,
                                load_config)
    from mmpse_ext.engine import DEFAULT_KEEP_FLOAT
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    if args.data_root:
        cfg.test_dataloader.dataset.data_root = args.data_root
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    print(
        f'{len(dataset)} test images; load average {tuple(np.round(os.getloadavg(), 1))}',
        flush=True)
    precisions = list(dict.fromkeys(['fp32'] + args.precisions))
    noise_rows = {
        f'fp32 + noise {sigma:g} #{seed}': (sigma, seed)
        for sigma in args.noise_floor
        for seed in range(args.noise_seeds)
    }
    # one detector (pipeline, padding, post-processing); each row swaps the network it runs
    detector = PSEDetector(cfg, args.checkpoint, backend='pytorch', device='cpu')
    float_backend = detector.backend
    keep_float = DEFAULT_KEEP_FLOAT if args.keep_float is None else args.keep_float
    rows = {}
    with tempfile.TemporaryDirectory() as work_dir:
        for precision in precisions + list(noise_rows):
            if precision in noise_rows:
                backend = NoisyLogits(float_backend, *noise_rows[precision])
            elif precision == 'int8':
                int8_file = args.int8 or build_int8(args, cfg, work_dir)
                backend = OnnxRuntimeLogitsBackend(int8_file, 'cpu', num_threads=args.threads)
            elif precision == 'fp32':
                backend = float_backend
            else:  # prepares its own copy of the network
                backend = TorchLogitsBackend(float_backend.network, 'cpu', precision, keep_float)
            detections, metrics, seconds, maps = evaluate(detector, backend, cfg, dataset)
            rows[precision] = dict(
                detections=detections,
                seconds=seconds,
                maps=maps,
                **{
                    key.split('/')[-1]: float(value)
                    for key, value in metrics.items()
                })
            print(f'{precision}: {metrics} ({seconds * 1e3:.0f} ms per image)', flush=True)

    reference = rows['fp32']
    print('\n| precision | P | R | hmean | hmean - fp32 | text logit RMS - fp32 '
          '| fp32 polygons matched (IoU > 0.5) | mean IoU of matched | gate | ms / image |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    failed = False
    table = []
    for precision, row in rows.items():
        matched, ious, total = 0, [], 0
        for ref, det in zip(reference['detections'], row['detections']):
            count, pair_ious = polygon_agreement(ref.polygons, det.polygons)
            matched += count
            ious += pair_ious
            total += len(ref.polygons)
        delta = row['hmean'] - reference['hmean']
        gate = GATES.get(precision)
        verdict = '' if gate is None else (
            f'PASS (<= {gate})' if abs(delta) <= gate else f'FAIL (> {gate})')
        failed |= verdict.startswith('FAIL')
        mean_iou = float(np.mean(ious)) if ious else float('nan')
        logit_rms = rms_difference(row['maps'], reference['maps'])
        print(f'| {precision} | {row["precision"]:.4f} | {row["recall"]:.4f} | '
              f'{row["hmean"]:.4f} | {delta:+.4f} | {logit_rms:.4f} | {matched}/{total} | '
              f'{mean_iou:.4f} | {verdict} | {row["seconds"] * 1e3:.0f} |')
        table.append(
            dict(
                precision=precision,
                P=row['precision'],
                R=row['recall'],
                hmean=row['hmean'],
                hmean_delta=delta,
                text_logit_rms=logit_rms,
                matched=matched,
                fp32_polygons=total,
                mean_iou=mean_iou,
                gate=verdict,
                ms_per_image=row['seconds'] * 1e3))
    print(f'\nload average {tuple(np.round(os.getloadavg(), 1))}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(table, f, indent=1)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
