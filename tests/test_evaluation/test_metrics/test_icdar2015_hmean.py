"""ICDAR2015HmeanMetric: every rule of the official protocol on hand-computed cases."""
from unittest import mock

import numpy as np
import pytest
import shapely
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

from mmpse_ext.evaluation.metrics import ICDAR2015HmeanMetric

LOG = 'mmpse_ext.evaluation.metrics.icdar2015_hmean.print_log'


def rect(x0, y0, x1, y1):
    """A flat axis-aligned quad, clockwise in image coordinates."""
    return np.array([x0, y0, x1, y0, x1, y1, x0, y1], dtype=np.float32)


def sample(gts=(), preds=(), ignored=None, scores=None, img_path=None):
    """A data sample as the evaluator hands it to metrics (``DataSample.to_dict()``)."""
    ignored = [False] * len(gts) if ignored is None else ignored
    scores = [1.0] * len(preds) if scores is None else scores
    data = dict(
        gt_instances=dict(
            polygons=[np.asarray(p, np.float32) for p in gts],
            ignored=torch.tensor(ignored, dtype=torch.bool).reshape(-1)),
        pred_instances=dict(
            polygons=[np.asarray(p, np.float32) for p in preds],
            scores=torch.tensor(scores, dtype=torch.float32).reshape(-1)))
    if img_path is not None:
        data['img_path'] = img_path
    return data


def evaluate(samples, **kwargs):
    metric = ICDAR2015HmeanMetric(**kwargs)
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def assert_scores(result, precision, recall, hmean=None):
    if hmean is None:
        hmean = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    assert result['precision'] == pytest.approx(precision)
    assert result['recall'] == pytest.approx(recall)
    assert result['hmean'] == pytest.approx(hmean)


def test_perfect_detection():
    result = evaluate([sample([rect(0, 0, 10, 5), rect(20, 0, 30, 5)],
                              [rect(20, 0, 30, 5), rect(0, 0, 10, 5)])])
    assert_scores(result, 1.0, 1.0, 1.0)


def test_iou_exactly_half_is_not_a_match_and_just_above_is():
    gt = rect(0, 0, 2, 1)  # area 2
    # det [0,1]x[0,1]: inter 1, union 2 + 1 - 1 = 2, IoU = 0.5 exactly -> not matched
    assert_scores(evaluate([sample([gt], [rect(0, 0, 1, 1)])]), 0.0, 0.0)
    # det [0,1.01]x[0,1]: inter 1.01, union 2 -> IoU 0.505 -> matched
    assert_scores(evaluate([sample([gt], [rect(0, 0, 1.01, 1)])]), 1.0, 1.0)


def test_detection_inside_dont_care_region_is_not_counted():
    # gt0 '###' [0,10]x[0,10]; det0 = [4,14]x[0,10] lies 60 % inside it -> don't-care.
    # gt1 cared is found by det1. Counts: 1 matched / 1 cared gt / 1 cared det.
    gts = [rect(0, 0, 10, 10), rect(50, 0, 60, 10)]
    preds = [rect(4, 0, 14, 10), rect(50, 0, 60, 10)]
    assert_scores(evaluate([sample(gts, preds, ignored=[True, False])]), 1.0, 1.0)


def test_detection_exactly_half_inside_dont_care_region_is_a_false_positive():
    # det0 = [5,15]x[0,10]: 50 / 100 = 0.5 inside the '###' region, not > 0.5 -> still cared.
    gts = [rect(0, 0, 10, 10), rect(50, 0, 60, 10)]
    preds = [rect(5, 0, 15, 10), rect(50, 0, 60, 10)]
    assert_scores(evaluate([sample(gts, preds, ignored=[True, False])]), 0.5, 1.0)


def test_dont_care_ground_truth_is_never_matched_nor_counted():
    # The det equals the '###' region: it is don't-care itself; nothing is counted at all.
    assert_scores(evaluate([sample([rect(0, 0, 10, 10)], [rect(0, 0, 10, 10)], [True])]), 0, 0)


def test_one_detection_over_two_ground_truths_matches_at_most_one():
    # gt0 [0,10]x[0,10], gt1 [1,11]x[0,10] overlap; det [0,11]x[0,10] has IoU 100/110 with each.
    result = evaluate([sample([rect(0, 0, 10, 10), rect(1, 0, 11, 10)], [rect(0, 0, 11, 10)])])
    assert_scores(result, precision=1.0, recall=0.5)


def test_one_detection_over_two_separate_words_matches_neither():
    # det [0,20]x[0,10] over gt0 [0,10] and gt1 [10,20]: IoU 100/200 = 0.5 with each.
    result = evaluate([sample([rect(0, 0, 10, 10), rect(10, 0, 20, 10)], [rect(0, 0, 20, 10)])])
    assert_scores(result, 0.0, 0.0)


def test_two_detections_over_one_ground_truth_match_once():
    result = evaluate([sample([rect(0, 0, 10, 10)], [rect(0, 0, 10, 10), rect(0, 0, 10, 9)])])
    assert_scores(result, precision=0.5, recall=1.0)


def test_greedy_matching_in_ground_truth_then_detection_order():
    # gt0 [0,10], gt1 [3,13]; det0 [1,11], det1 [-1,9] (all 10 tall).
    # IoU(gt0,det0) = 90/110, IoU(gt0,det1) = 90/110, IoU(gt1,det0) = 80/120, IoU(gt1,det1) =
    # 60/140 < 0.5. Greedy: gt0 takes det0 (first), gt1 is left with det1 -> 1 match.
    gts = [rect(0, 0, 10, 10), rect(3, 0, 13, 10)]
    det0, det1 = rect(1, 0, 11, 10), rect(-1, 0, 9, 10)
    assert_scores(evaluate([sample(gts, [det0, det1])]), 0.5, 0.5)
    # Detections in the other order: gt0 takes det1, gt1 takes det0 -> 2 matches.
    assert_scores(evaluate([sample(gts, [det1, det0])]), 1.0, 1.0)


def test_counts_are_pooled_over_images_not_averaged():
    # image A: 1 gt, 1 det, 1 match. image B: 3 gts, 3 dets, 1 match. Pooled: 2/4 and 2/4.
    # (The mean of per-image recalls would be (1 + 1/3) / 2 = 0.667.)
    image_a = sample([rect(0, 0, 10, 10)], [rect(0, 0, 10, 10)])
    image_b = sample([rect(0, 0, 10, 10), rect(20, 0, 30, 10), rect(40, 0, 50, 10)],
                     [rect(0, 0, 10, 10), rect(100, 0, 110, 10), rect(200, 0, 210, 10)])
    # An image with nothing in it changes nothing (per image it would score P = R = 1).
    empty = sample()
    assert_scores(evaluate([image_a, image_b, empty]), 0.5, 0.5, 0.5)


def test_batches_give_the_same_result_as_one_batch():
    images = [sample([rect(0, 0, 10, 10)], [rect(0, 0, 10, 10)]),
              sample([rect(0, 0, 10, 10), rect(20, 0, 30, 10)], [rect(21, 0, 30, 10)]),
              sample([], [rect(0, 0, 5, 5)])]
    metric = ICDAR2015HmeanMetric()
    for image in images:
        metric.process({}, [image])
    assert metric.compute_metrics(metric.results) == evaluate(images)


def test_no_predictions():
    assert_scores(evaluate([sample([rect(0, 0, 10, 10), rect(20, 0, 30, 10)], [])]), 0.0, 0.0)


def test_no_ground_truth():
    assert_scores(evaluate([sample([], [rect(0, 0, 10, 10)])]), 0.0, 0.0)
    assert_scores(evaluate([sample([], [])]), 0.0, 0.0)


def test_degenerate_prediction_counts_as_false_positive_and_is_reported():
    gts = [rect(0, 0, 10, 10)]
    preds = [rect(0, 0, 10, 10), [0, 0, 10, 10], [0, 0, 5, 5, 10, 10], [0, 0, 10, 0, 10, 0]]
    with mock.patch(LOG) as log:
        result = evaluate([sample(gts, preds)])
    assert_scores(result, precision=0.25, recall=1.0)
    warnings = ' '.join(str(call.args[0]) for call in log.call_args_list)
    assert '0 ground truths, 3 predictions' in warnings


def test_degenerate_ground_truth_counts_and_is_never_found():
    gts = [rect(0, 0, 10, 10), [5, 5, 6, 6]]
    with mock.patch(LOG) as log:
        result = evaluate([sample(gts, [rect(0, 0, 10, 10), rect(5, 5, 6, 6)])])
    assert_scores(result, precision=0.5, recall=0.5)
    assert '1 ground truths, 0 predictions' in ' '.join(str(c.args[0]) for c in log.call_args_list)


def test_self_intersecting_prediction_is_repaired_and_can_match():
    # Bowtie A(0,0) B(3,3) C(3,0) D(0,1), crossing at X(0.75,0.75); its lobes have areas 0.375
    # and 3.375 (make_valid keeps both: 3.75). The gt is the big lobe X-B-C:
    # IoU = 3.375 / (3.375 + 3.75 - 3.375) = 0.9.
    gt = [0.75, 0.75, 3, 3, 3, 0]
    with mock.patch(LOG) as log:
        result = evaluate([sample([gt], [[0, 0, 3, 3, 3, 0, 0, 1]])])
    assert_scores(result, 1.0, 1.0)
    warnings = ' '.join(str(call.args[0]) for call in log.call_args_list)
    assert 'make_valid: 0 ground truths, 1 predictions' in warnings


def test_threshold_sweep_reports_the_best_threshold_next_to_the_official_numbers():
    # gts A, B. dets: A (0.9), B (0.4), false positive (0.6), false positive (0.2).
    gts = [rect(0, 0, 10, 10), rect(20, 0, 30, 10)]
    preds = [rect(0, 0, 10, 10), rect(20, 0, 30, 10), rect(50, 0, 60, 10), rect(70, 0, 80, 10)]
    image = sample(gts, preds, scores=[0.9, 0.4, 0.6, 0.2])
    result = evaluate([image], score_thrs=[0.3, 0.5, 0.7])
    # official (all dets): 2 / 4 and 2 / 2
    assert_scores(result, 0.5, 1.0)
    # >= 0.3: P 2/3, R 1, H 0.8 (best); >= 0.5: P 1/2 R 1/2; >= 0.7: P 1 R 1/2, H 2/3
    assert result['best_score_thr'] == pytest.approx(0.3)
    assert result['best_precision'] == pytest.approx(2 / 3)
    assert result['best_recall'] == pytest.approx(1.0)
    assert result['best_hmean'] == pytest.approx(0.8)
    # MMOCR-style dict: 0.5, 0.6, 0.7, 0.8 (stop included). With B scored exactly 0.5 it is kept
    # at 0.5 (score >= thr): P 2/3, R 1, H 0.8; at 0.6: H 0.5; at 0.7 and 0.8: H 2/3.
    image = sample(gts, preds, scores=[0.9, 0.5, 0.6, 0.2])
    result = evaluate([image], score_thrs=dict(start=0.5, stop=0.8, step=0.1))
    assert result['best_score_thr'] == pytest.approx(0.5)
    assert result['best_hmean'] == pytest.approx(0.8)


def test_threshold_sweep_ties_keep_the_lowest_threshold():
    image = sample([rect(0, 0, 10, 10)], [rect(0, 0, 10, 10)], scores=[0.95])
    result = evaluate([image], score_thrs=dict(start=0.3, stop=0.9, step=0.1))
    assert result['best_score_thr'] == pytest.approx(0.3) and result['best_hmean'] == 1.0


def test_sweep_without_scores_is_rejected():
    image = sample([rect(0, 0, 10, 10)], [rect(0, 0, 10, 10)])
    del image['pred_instances']['scores']
    assert_scores(evaluate([image]), 1.0, 1.0)  # fine without a sweep
    with pytest.raises(ValueError, match='scores'):
        evaluate([image], score_thrs=[0.5])


def test_round_coords_uses_integer_coordinates_like_a_submission_file():
    gt, pred = rect(0, 0, 2, 1), rect(0, 0, 1.4, 1)
    assert_scores(evaluate([sample([gt], [pred])]), 1.0, 1.0)  # IoU 1.4 / 2 = 0.7
    # rounded to [0,1]x[0,1]: IoU exactly 0.5 -> not matched
    assert_scores(evaluate([sample([gt], [pred])], round_coords=True), 0.0, 0.0)


def test_thresholds_are_configurable():
    gt, pred = rect(0, 0, 2, 1), rect(0, 0, 1.4, 1)  # IoU 0.7
    assert_scores(evaluate([sample([gt], [pred])], match_iou_thr=0.7), 0.0, 0.0)
    assert_scores(evaluate([sample([gt], [pred])], match_iou_thr=0.69), 1.0, 1.0)
    # det0 lies 70 % inside the '###' region; det1 finds the cared gt1.
    image = sample([rect(0, 0, 10, 10), rect(50, 0, 60, 10)],
                   [rect(3, 0, 13, 10), rect(50, 0, 60, 10)], ignored=[True, False])
    assert_scores(evaluate([image], ignore_precision_thr=0.7), 0.5, 1.0)  # det0 counted
    assert_scores(evaluate([image], ignore_precision_thr=0.69), 1.0, 1.0)  # det0 don't-care


@pytest.mark.parametrize('kwargs,match', [
    (dict(match_iou_thr=1.5), 'match_iou_thr'),
    (dict(score_thrs=dict(start=0.9, stop=0.3, step=0.1)), 'stop >= start'),
    (dict(score_thrs=dict(begin=0.3)), 'start'),
    (dict(score_thrs=[]), 'score_thrs'),
])
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ICDAR2015HmeanMetric(**kwargs)


def test_bad_samples_name_the_image_and_the_polygon():
    bad_polygon = sample([rect(0, 0, 1, 1)], [rect(0, 0, 1, 1), [0, 0, 1]], img_path='img_3.jpg')
    with pytest.raises(ValueError, match=r'img_3\.jpg pred_instances\.polygons\[1\]'):
        evaluate([bad_polygon])
    bad_flags = sample([rect(0, 0, 1, 1)], [], ignored=[False, True], img_path='img_4.jpg')
    with pytest.raises(ValueError, match=r'img_4\.jpg.*ignored has 2 flags for 1'):
        evaluate([bad_flags])
    bad_scores = sample([], [rect(0, 0, 1, 1)], scores=[0.5, 0.6])
    with pytest.raises(ValueError, match=r'data sample #1.*scores has 2 values for 1'):
        evaluate([sample(), bad_scores])


def test_data_sample_objects_and_registry_build_through_mmocr_scope():
    from mmocr.registry import METRICS
    from mmocr.structures import TextDetDataSample
    from mmengine.registry import init_default_scope

    init_default_scope('mmocr')
    metric = METRICS.build(dict(type='mmpse_ext.ICDAR2015HmeanMetric', score_thrs=[0.5]))
    assert isinstance(metric, ICDAR2015HmeanMetric)
    data_sample = TextDetDataSample(metainfo=dict(img_path='a.jpg'))
    data_sample.gt_instances = InstanceData(
        polygons=[rect(0, 0, 10, 10), rect(20, 0, 30, 10)], ignored=np.array([False, True]))
    data_sample.pred_instances = InstanceData(
        polygons=[rect(0, 0, 10, 10), rect(20, 0, 30, 10)], scores=torch.tensor([0.9, 0.8]))
    evaluator = Evaluator(metric)
    evaluator.process([data_sample])  # the evaluator turns it into a dict, as in a real run
    metric_direct = ICDAR2015HmeanMetric()
    metric_direct.process({}, [data_sample])  # a DataSample object works too
    assert metric_direct.compute_metrics(metric_direct.results)['hmean'] == 1.0
    result = evaluator.evaluate(1)
    assert result == {
        'icdar/precision': 1.0, 'icdar/recall': 1.0, 'icdar/hmean': 1.0,
        'icdar/best_score_thr': 0.5, 'icdar/best_precision': 1.0, 'icdar/best_recall': 1.0,
        'icdar/best_hmean': 1.0
    }


# ---------------------------------------------------------------------------------------------
# Randomised cross-checks against an independent, literal transcription of the official loops.


class ShapelyGeometry:
    """Geometry for the reference: shapely, one pair at a time, self-intersections repaired."""

    @staticmethod
    def polygon(flat):
        return shapely.make_valid(shapely.Polygon(np.reshape(flat, (-1, 2))))

    @staticmethod
    def area(polygon):
        return polygon.area

    @staticmethod
    def intersection(a, b):
        return a.intersection(b).area


class Polygon3Geometry:
    """What the official script uses: Polygon3 (GPC) on int() coordinates."""

    @staticmethod
    def polygon(flat):
        import Polygon
        return Polygon.Polygon([(int(x), int(y)) for x, y in np.reshape(flat, (-1, 2))])

    @staticmethod
    def area(polygon):
        return polygon.area()

    @staticmethod
    def intersection(a, b):
        overlap = a & b
        return overlap.area() if len(overlap) else 0.0


def reference_counts(images, geometry=ShapelyGeometry, score_thr=None, iou_thr=0.5,
                     precision_thr=0.5):
    """The official script's per-image loops, transcribed literally: no pre-filter, no arrays."""
    matched = num_gt = num_det = 0
    for image in images:
        gt_polys = [geometry.polygon(p) for p in image['gt_instances']['polygons']]
        scores = image['pred_instances']['scores'].numpy()
        det_polys = [
            geometry.polygon(p) for p, s in zip(image['pred_instances']['polygons'], scores)
            if score_thr is None or s >= score_thr
        ]
        dont_care_gt = image['gt_instances']['ignored'].tolist()
        dont_care_det = []
        for det in det_polys:
            flag = False
            for gt, ignored in zip(gt_polys, dont_care_gt):
                if not ignored:
                    continue
                det_area = geometry.area(det)
                share = 0 if det_area == 0 else geometry.intersection(gt, det) / det_area
                if share > precision_thr:
                    flag = True
                    break
            dont_care_det.append(flag)
        gt_used, det_used = [False] * len(gt_polys), [False] * len(det_polys)
        for g, gt in enumerate(gt_polys):
            for d, det in enumerate(det_polys):
                if gt_used[g] or det_used[d] or dont_care_gt[g] or dont_care_det[d]:
                    continue
                inter = geometry.intersection(gt, det)
                union = geometry.area(gt) + geometry.area(det) - inter
                if union > 0 and inter / union > iou_thr:
                    gt_used[g] = det_used[d] = True
                    matched += 1
        num_gt += len(gt_polys) - sum(dont_care_gt)
        num_det += len(det_polys) - sum(dont_care_det)
    return matched, num_gt, num_det


def random_images(seed, num_images=40, noise=(1.0, 4.0)):
    """Clustered, overlapping quads: words, near-duplicates, merged boxes and '###' regions."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(num_images):
        gts, preds = [], []
        for centre in rng.uniform(0, 200, (int(rng.integers(0, 9)), 2)):
            w, h, angle = rng.uniform(10, 40), rng.uniform(5, 15), rng.uniform(-0.5, 0.5)
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2 @ rot.T
            gts.append((corners + centre).reshape(-1))
            for _ in range(int(rng.integers(0, 3))):  # 0, 1 or 2 detections per word
                jitter = rng.normal(0, rng.choice(noise), (4, 2))
                shift = rng.normal(0, 3, 2)
                preds.append((corners * rng.uniform(0.8, 1.3) + centre + shift + jitter)
                             .reshape(-1))
        for _ in range(int(rng.integers(0, 3))):  # false positives
            x, y = rng.uniform(0, 200, 2)
            preds.append(rect(x, y, x + rng.uniform(5, 40), y + rng.uniform(5, 15)))
        ignored = (rng.uniform(size=len(gts)) < 0.2).tolist()
        images.append(sample(gts, preds, ignored, rng.uniform(0, 1, len(preds)).tolist()))
    return images


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matches_literal_reference_on_random_scenes(seed):
    images = random_images(seed)
    thrs = [0.3, 0.6]
    result = evaluate(images, score_thrs=thrs)
    matched, num_gt, num_det = reference_counts(images)
    assert matched > 10 and num_det > matched  # the scenes exercise matches and misses
    assert_scores(result, matched / num_det, matched / num_gt)
    best = max((reference_counts(images, score_thr=t) for t in thrs),
               key=lambda c: 2 * c[0] / (c[1] + c[2]))
    assert result['best_hmean'] == pytest.approx(2 * best[0] / (best[1] + best[2]))


def test_agrees_with_mmocr_hmean_iou_metric_on_valid_polygons():
    from mmocr.evaluation import HmeanIOUMetric

    images = random_images(7, num_images=60, noise=(0.5, 1.0))
    ours = evaluate(images, score_thrs=dict(start=0.3, stop=0.9, step=0.1))
    mmocr_metric = HmeanIOUMetric(pred_score_thrs=dict(start=0.3, stop=0.9, step=0.1))
    mmocr_metric.process({}, images)
    theirs = mmocr_metric.compute_metrics(mmocr_metric.results)
    assert ours['best_hmean'] == pytest.approx(theirs['hmean'])
    assert ours['best_precision'] == pytest.approx(theirs['precision'])
    assert ours['best_recall'] == pytest.approx(theirs['recall'])


def test_matches_the_official_geometry_library_on_integer_quads():
    """Polygon3 is what the official script computes with; optional (not in the project env)."""
    pytest.importorskip('Polygon', reason="Polygon3 (the official script's geometry) not installed")
    images = random_images(11, num_images=80)
    for image in images:  # integer coordinates, as in a submission file; valid quads only
        for instances in (image['gt_instances'], image['pred_instances']):
            instances['polygons'] = [np.rint(p) for p in instances['polygons']]
        keep = [bool(shapely.Polygon(np.reshape(p, (-1, 2))).is_valid)
                for p in image['pred_instances']['polygons']]
        image['pred_instances']['polygons'] = [
            p for p, k in zip(image['pred_instances']['polygons'], keep) if k]
        image['pred_instances']['scores'] = image['pred_instances']['scores'][keep]
    matched, num_gt, num_det = reference_counts(images, Polygon3Geometry)
    assert matched > 20
    assert_scores(evaluate(images, round_coords=True), matched / num_det, matched / num_gt)
