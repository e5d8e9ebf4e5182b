"""Time ICDAR2015HmeanMetric against MMOCR's HmeanIOUMetric on the same synthetic predictions.

Both metrics see identical data samples (N images with ~10 rotated word quads each, ~10 % of them
``###``, 0-2 jittered detections per word plus false positives) and the same score sweep
(MMOCR's default 0.3..0.9 step 0.1). The script prints the wall time of ``process`` +
``compute_metrics`` (best of ``--repeat`` runs) of

* ours with its defaults (the official computation: integer coordinates), without a sweep;
* ours with the sweep, with the defaults and with ``round_coords=False`` (MMOCR's geometry on
  valid polygons, so its best hmean must equal MMOCR's);
* MMOCR's ``HmeanIOUMetric`` with the sweep;

the time ratios MMOCR / ours, and the load average, since the machine may be shared.

Example::

    python tools/analysis_tools/benchmark_hmean.py --images 500 --batch-size 1
"""
import argparse
import os
import time

import numpy as np
import torch


def make_samples(num_images: int, words_per_image: int, seed: int) -> list:
    """Synthetic data samples in the layout the evaluator hands to metrics."""
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(num_images):
        gts, preds = [], []
        for _ in range(int(rng.poisson(words_per_image))):
            centre = rng.uniform([0, 0], [1280, 720])
            w, h, angle = rng.uniform(20, 200), rng.uniform(10, 40), rng.uniform(-0.4, 0.4)
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2 @ rot.T
            gts.append((corners + centre).reshape(-1).astype(np.float32))
            for _ in range(int(rng.choice([0, 1, 1, 1, 2]))):
                jitter = rng.normal(0, 0.05 * h, (4, 2)) + rng.normal(0, 0.1 * h, 2)
                preds.append((corners * rng.uniform(0.85, 1.2) + centre +
                              jitter).reshape(-1).astype(np.float32))
        for _ in range(int(rng.integers(0, 3))):  # false positives
            x, y, w, h = *rng.uniform([0, 0], [1280, 720]), *rng.uniform([20, 10], [200, 40])
            preds.append(np.array([x, y, x + w, y, x + w, y + h, x, y + h], np.float32))
        samples.append(
            dict(
                img_path=f'img_{len(samples) + 1}.jpg',
                gt_instances=dict(
                    polygons=gts, ignored=torch.from_numpy(rng.uniform(size=len(gts)) < 0.1)),
                pred_instances=dict(
                    polygons=preds, scores=torch.from_numpy(rng.uniform(0.2, 1.0, len(preds))))))
    return samples


def time_metric(build, samples, batch_size: int, repeat: int):
    """Best wall time over ``repeat`` fresh runs, and the last run's metrics."""
    best, metrics = float('inf'), None
    for _ in range(repeat):
        metric = build()
        start = time.perf_counter()
        for i in range(0, len(samples), batch_size):
            metric.process({}, samples[i:i + batch_size])
        metrics = metric.compute_metrics(metric.results)
        best = min(best, time.perf_counter() - start)
    return best, metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=500)
    parser.add_argument('--words', type=int, default=10, help='mean instances per image')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--skip-mmocr', action='store_true', help='time ours only')
    args = parser.parse_args()

    from mmengine.logging import MMLogger

    from mmpse_ext.evaluation import ICDAR2015HmeanMetric
    MMLogger.get_instance('benchmark_hmean', log_level='WARNING')  # keep the sweep logs quiet

    samples = make_samples(args.images, args.words, args.seed)
    num_gt = sum(len(s['gt_instances']['polygons']) for s in samples)
    num_pred = sum(len(s['pred_instances']['polygons']) for s in samples)
    print(f'{args.images} images, {num_gt} gt and {num_pred} predicted polygons, batch size '
          f'{args.batch_size}, best of {args.repeat}; load average before: {os.getloadavg()}')
    sweep = dict(start=0.3, stop=0.9, step=0.1)

    def report(name, seconds, result, best=False):
        key = 'best_' if best else ''
        print(f'{name:<40}: {seconds:7.3f} s  P {result[key + "precision"]:.4f} '
              f'R {result[key + "recall"]:.4f} H {result[key + "hmean"]:.4f}')

    official_time, official = time_metric(ICDAR2015HmeanMetric, samples, args.batch_size,
                                          args.repeat)
    report('ours, defaults, all predictions', official_time, official)
    sweep_time, swept = time_metric(lambda: ICDAR2015HmeanMetric(pred_score_thrs=sweep), samples,
                                    args.batch_size, args.repeat)
    report(f'ours, defaults, sweep (best {swept["best_score_thr"]:.1f})', sweep_time, swept, True)
    float_time, float_swept = time_metric(
        lambda: ICDAR2015HmeanMetric(pred_score_thrs=sweep, round_coords=False), samples,
        args.batch_size, args.repeat)
    report('ours, round_coords=False, sweep', float_time, float_swept, True)
    if not args.skip_mmocr:
        from mmocr.evaluation import HmeanIOUMetric
        mmocr_time, theirs = time_metric(lambda: HmeanIOUMetric(pred_score_thrs=sweep), samples,
                                         args.batch_size, args.repeat)
        report('mmocr HmeanIOUMetric, sweep', mmocr_time, theirs)
        print(f'time ratio mmocr / ours (same sweep): {mmocr_time / sweep_time:.1f}x with our '
              f'defaults, {mmocr_time / float_time:.1f}x with round_coords=False; mmocr / ours '
              f'without a sweep: {mmocr_time / official_time:.1f}x')
        print(f'best hmean, mmocr - ours with round_coords=False: '
              f'{theirs["hmean"] - float_swept["best_hmean"]:.2e} (0 expected on valid polygons)')
    print(f'load average after: {os.getloadavg()}')


if __name__ == '__main__':
    main()
