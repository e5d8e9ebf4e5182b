"""ICDAR2015HmeanMetric against independent references: the official script's computation
(icdar2015_official_reference.py, exact and Polygon3 geometry) on ICDAR2015-style submissions and
on float coordinates, and MMOCR's HmeanIOUMetric on valid polygons."""
import icdar2015_official_reference as ref
import numpy as np
import pytest
import shapely
import torch
from hmean_samples import evaluate, random_images


def _images_for_reference(samples, score_thr=None, round_coords=True):
    """Data samples as the reference's (gt points, ### flags, det points) per image."""
    images = []
    for s in samples:
        keep = [
            score_thr is None or v >= np.float32(score_thr)
            for v in np.asarray(s['pred_instances']['scores'], np.float32)
        ]
        dets = [p for p, k in zip(s['pred_instances']['polygons'], keep) if k]
        gts = s['gt_instances']['polygons']
        if round_coords:
            gts, dets = [np.rint(p) for p in gts], [np.rint(p) for p in dets]
        images.append(([p.tolist() for p in gts], list(np.asarray(s['gt_instances']['ignored'])),
                       [p.tolist() for p in dets]))
    return images


def _assert_same_scores(result, reference):
    for key in ('precision', 'recall', 'hmean'):
        assert result[key] == pytest.approx(reference[key], abs=1e-6), key


@pytest.mark.parametrize('seed', [0, 1])
def test_equals_the_official_computation_on_icdar2015_style_submissions(seed):
    gt_files, det_files, samples = ref.make_submission(seed, num_images=30)
    bowties = sum(not shapely.Polygon(np.reshape(p, (-1, 2))).is_valid for s in samples
                  for p in s['pred_instances']['polygons'])
    duplicates = sum(len(d.splitlines()) - len(set(d.splitlines())) for d in det_files.values())
    assert bowties > 10 and duplicates > 10  # the submissions hold what the test is about
    exact = ref.official_scores(gt_files, det_files, ref.ExactGeometry)
    assert exact['matched'] > 40 and exact['num_det'] > exact['matched']
    # the defaults: integer coordinates, shoelace areas, even-odd overlaps
    _assert_same_scores(evaluate(samples), exact)
    # the self-intersecting detections do decide matches: the repaired-area rule differs
    assert evaluate(samples, area_rule='repaired')['hmean'] != pytest.approx(exact['hmean'])
    # the sweep: the official computation on the predictions kept at each threshold
    thrs = [0.5, 0.8]
    swept = [
        ref.official_counts(_images_for_reference(samples, t), ref.ExactGeometry) for t in thrs
    ]
    best = int(np.argmax([r['hmean'] for r in swept]))  # the first (lowest) on ties
    result = evaluate(samples, pred_score_thrs=thrs)
    assert result['best_score_thr'] == thrs[best]
    assert result['best_hmean'] == pytest.approx(swept[best]['hmean'], abs=1e-6)
    _assert_same_scores(result, exact)


def test_equals_the_official_script_with_polygon3_on_icdar2015_style_submissions():
    """Polygon3 is the official script's geometry library (installed for the tests only)."""
    pytest.importorskip(
        'Polygon',
        reason="Polygon3 (the official script's geometry) is not "
        'installed: pip install Polygon3')
    for seed in (0, 1, 2, 3):
        gt_files, det_files, samples = ref.make_submission(seed, num_images=60)
        official = ref.official_scores(gt_files, det_files, ref.Polygon3Geometry)
        assert official['matched'] > 50
        _assert_same_scores(evaluate(samples), official)
        if seed == 0:  # the two references agree as well
            assert ref.official_scores(gt_files, det_files, ref.ExactGeometry) == official


@pytest.mark.parametrize('area_rule', ['official', 'repaired'])
def test_equals_the_official_loops_on_float_coordinates(area_rule):
    images = random_images(3)
    result = evaluate(images, round_coords=False, area_rule=area_rule)
    geometry = ref.ExactGeometry if area_rule == 'official' else RepairedExactGeometry
    expected = ref.official_counts(_images_for_reference(images, round_coords=False), geometry)
    assert expected['matched'] > 10 and expected['num_det'] > expected['matched']
    _assert_same_scores(result, expected)


class RepairedExactGeometry(ref.ExactGeometry):
    """The repaired-area rule in exact arithmetic: area = area of the even-odd region."""

    @staticmethod
    def polygon(points):
        ring, box = ref.ExactGeometry.polygon(points)
        return ring, box, ref.even_odd_overlap_area(ring)

    @staticmethod
    def area(polygon):
        return polygon[2]


def test_agrees_with_mmocr_hmean_iou_metric_on_valid_polygons():
    from mmocr.evaluation import HmeanIOUMetric

    images = random_images(7, num_images=60, noise=(0.5, 1.0))
    for image in images:  # MMOCR repairs bow-ties differently (buffer(0)); keep simple ones
        pred = image['pred_instances']
        keep = [bool(shapely.Polygon(np.reshape(p, (-1, 2))).is_valid) for p in pred['polygons']]
        pred['polygons'] = [p for p, k in zip(pred['polygons'], keep) if k]
        # scores on MMOCR's thresholds, where its float32 / np.arange comparisons decide
        pred['scores'] = torch.from_numpy(
            np.random.default_rng(0).choice([0.3, 0.4, 0.6, 0.7, 0.8, 0.9],
                                            len(keep))[keep].astype(np.float32))
    for strategy in ('vanilla', 'max_matching'):
        for sweep in (dict(start=0.3, stop=0.9, step=0.1), dict(start=0.5, stop=0.8, step=0.1)):
            ours = evaluate(images, pred_score_thrs=sweep, strategy=strategy, round_coords=False)
            mmocr_metric = HmeanIOUMetric(pred_score_thrs=sweep, strategy=strategy)
            mmocr_metric.process({}, images)
            theirs = mmocr_metric.compute_metrics(mmocr_metric.results)
            assert ours['best_hmean'] == pytest.approx(theirs['hmean'])
            assert ours['best_precision'] == pytest.approx(theirs['precision'])
            assert ours['best_recall'] == pytest.approx(theirs['recall'])
