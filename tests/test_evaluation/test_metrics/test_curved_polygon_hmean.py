"""ICDAR2015HmeanMetric on curved text (CTW1500's 14-point polygons, PSE contours): the IoU
protocol MMOCR evaluates CTW1500 with, on polygons of any vertex count."""
import deteval_official_reference as dref
import icdar2015_official_reference as iref
import numpy as np
import pytest
import shapely

from mmpse_ext.evaluation.metrics import ICDAR2015HmeanMetric


def curved_images(seed, num_images=30):
    """CTW1500-like images: curved words as 14-point polygons (7 points a side), ``###``
    about 10 %; detections as contours of 16-50 points (jittered, loose, partial, shifted),
    duplicates and false positives. Every polygon is simple after rounding to integers."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(num_images):
        gts, ignored, preds = [], [], []

        def add(ring, out):
            if dref.usable_ring(ring):
                out.append(ring.reshape(-1))

        for _ in range(int(rng.integers(1, 7))):
            radius, half = rng.uniform(100, 1200), rng.uniform(8, 25)
            start, bend = rng.uniform(0, 2 * np.pi), rng.choice([-1, 1])
            centre = rng.uniform(
                [60, 60],
                [700, 500]) - radius * np.array([np.cos(start), np.sin(start)])
            length = rng.uniform(40, 250)
            word = np.rint(dref.curved_band(centre, radius, start, 0, length, half, 7, bend=bend))
            if not dref.usable_ring(word):
                continue
            gts.append(word.reshape(-1))
            ignored.append(bool(rng.uniform() < 0.1))
            for _ in range(int(rng.choice([0, 1, 1, 2]))):
                a, b = rng.uniform(-0.15, 0.2, 2) * length
                if rng.uniform() < 0.2:  # shifted along the arc: IoU around 0.5
                    a = b = -rng.uniform(0.2, 0.5) * length
                ring = dref.curved_band(centre, radius, start, a, length - b,
                                        half * rng.uniform(0.8, 1.4), int(rng.integers(8, 26)), rng,
                                        1.5, bend)
                add(ring + rng.uniform(-0.45, 0.45, ring.shape), preds)
        for _ in range(int(rng.integers(0, 3))):
            x, y = rng.uniform([0, 0], [700, 500])
            add(np.array([[x, y], [x + 60, y + 5], [x + 55, y + 30], [x, y + 25]]), preds)
        images.append(
            dict(
                gt_instances=dict(
                    polygons=[p.astype(np.float32) for p in gts],
                    ignored=np.array(ignored, dtype=bool)),
                pred_instances=dict(
                    polygons=[p.astype(np.float32) for p in preds],
                    scores=rng.choice([0.3, 0.5, 0.7, 0.9], len(preds)).astype(np.float32))))
    return images


def evaluate(samples, **kwargs):
    metric = ICDAR2015HmeanMetric(**kwargs)
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_the_images_are_curved_and_matchable():
    images = curved_images(0)
    gt_sizes = {len(p) // 2 for s in images for p in s['gt_instances']['polygons']}
    pred_sizes = {len(p) // 2 for s in images for p in s['pred_instances']['polygons']}
    assert gt_sizes == {14} and max(pred_sizes) > 40
    result = evaluate(images)
    assert 0.3 < result['precision'] < 0.9 and 0.3 < result['recall'] < 0.9


def test_equals_the_official_geometry_on_14_point_polygons():
    """The official ICDAR loops with Polygon3, the official geometry library, on the rounded
    polygons (as a submission file holds them)."""
    pytest.importorskip(
        'Polygon',
        reason="Polygon3 (the official script's geometry) is not "
        'installed: pip install Polygon3')
    for seed in (0, 1):
        images = curved_images(seed)
        reference = iref.official_counts([
            ([np.rint(p).tolist()
              for p in s['gt_instances']['polygons']], list(s['gt_instances']['ignored']),
             [np.rint(p).tolist() for p in s['pred_instances']['polygons']]) for s in images
        ], iref.Polygon3Geometry)
        assert reference['matched'] > 30 and reference['num_det'] > reference['matched']
        result = evaluate(images)
        for key in ('precision', 'recall', 'hmean'):
            assert result[key] == pytest.approx(reference[key], abs=1e-6), key


def test_equals_mmocrs_hmean_iou_metric_on_curved_polygons():
    """MMOCR's CTW1500 protocol (HmeanIOUMetric: score sweep, best hmean) on the same float
    polygons; simple polygons, where its buffer(0) changes nothing."""
    from mmocr.evaluation import HmeanIOUMetric

    images = curved_images(2, num_images=40)
    assert all(
        shapely.Polygon(np.reshape(p, (-1, 2))).is_valid for s in images
        for p in s['pred_instances']['polygons'])
    for strategy in ('vanilla', 'max_matching'):
        sweep = dict(start=0.3, stop=0.9, step=0.1)
        ours = evaluate(images, pred_score_thrs=sweep, strategy=strategy, round_coords=False)
        theirs_metric = HmeanIOUMetric(pred_score_thrs=sweep, strategy=strategy)
        theirs_metric.process({}, images)
        theirs = theirs_metric.compute_metrics(theirs_metric.results)
        assert theirs['hmean'] > 0.3
        for key in ('precision', 'recall', 'hmean'):
            assert ours[f'best_{key}'] == pytest.approx(theirs[key], abs=1e-6), key
