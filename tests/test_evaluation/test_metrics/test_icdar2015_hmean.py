"""ICDAR2015HmeanMetric: every rule of the official protocol on hand-computed cases."""
from unittest import mock

import numpy as np
import pytest
import shapely
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

import icdar2015_official_reference as ref
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
    # det [0,1.01]x[0,1]: inter 1.01, union 2 -> IoU 0.505 -> matched (without rounding)
    assert_scores(evaluate([sample([gt], [rect(0, 0, 1.01, 1)])], round_coords=False), 1.0, 1.0)


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
    assert 'never matched): 0 ground truths, 3 predictions' in warnings


def test_degenerate_ground_truth_counts_and_is_never_found():
    gts = [rect(0, 0, 10, 10), [5, 5, 6, 6]]
    with mock.patch(LOG) as log:
        result = evaluate([sample(gts, [rect(0, 0, 10, 10), rect(5, 5, 6, 6)])])
    assert_scores(result, precision=0.5, recall=0.5)
    warnings = ' '.join(str(c.args[0]) for c in log.call_args_list)
    assert 'never matched): 1 ground truths, 0 predictions' in warnings


BOWTIE = [0, 0, 10, 10, 10, 0, 0, 10]  # both diagonals of the square [0,10]^2: two triangles


def test_symmetric_bowtie_has_zero_area_but_overlaps_by_its_lobes_as_in_the_official_script():
    # Official: area(bow-tie) = |shoelace| = 0, intersection with the square = the 2 lobes = 50,
    # so IoU = 50 / (0 + 100 - 50) = 1: matched. Repaired area 50: IoU = 50 / 100 = 0.5, not.
    square = rect(0, 0, 10, 10)
    with mock.patch(LOG) as log:
        assert_scores(evaluate([sample([square], [BOWTIE])]), 1.0, 1.0)
    warnings = ' '.join(str(c.args[0]) for c in log.call_args_list)
    assert 'self-intersecting' in warnings and '0 ground truths, 1 predictions' in warnings
    assert_scores(evaluate([sample([square], [BOWTIE])], area_rule='repaired'), 0.0, 0.0)
    # The same with the bow-tie as the ground truth.
    assert_scores(evaluate([sample([BOWTIE], [square])]), 1.0, 1.0)
    assert_scores(evaluate([sample([BOWTIE], [square])], area_rule='repaired'), 0.0, 0.0)


def test_asymmetric_bowtie_uses_the_shoelace_area():
    # A(0,0) B(12,12) C(12,0) D(0,4): AB and CD cross at X(3,3); lobes A-X-D = 6 and X-B-C = 54
    # (region 60), shoelace |54 - 6| = 48. Against the lobe X-B-C (area 54): official IoU =
    # 54 / (48 + 54 - 54) = 1.125 (above 1, as the script computes it), repaired 54 / 60 = 0.9.
    # Against the triangle A-B-C (area 72, covers lobe X-B-C only): official 54 / (48 + 72 - 54)
    # = 0.818 -> matched; repaired 54 / (60 + 72 - 54) = 0.692 -> matched; with
    # match_iou_thr=0.75 only the official rule matches.
    bowtie = [0, 0, 12, 12, 12, 0, 0, 4]
    triangle = [0, 0, 12, 12, 12, 0]
    assert_scores(evaluate([sample([[3, 3, 12, 12, 12, 0]], [bowtie])]), 1.0, 1.0)
    assert_scores(evaluate([sample([triangle], [bowtie])], match_iou_thr=0.75), 1.0, 1.0)
    assert_scores(evaluate([sample([triangle], [bowtie])], match_iou_thr=0.75,
                           area_rule='repaired'), 0.0, 0.0)
    assert_scores(evaluate([sample([triangle], [bowtie])], match_iou_thr=0.7), 1.0, 1.0)
    assert_scores(evaluate([sample([triangle], [bowtie])], match_iou_thr=0.69,
                           area_rule='repaired'), 1.0, 1.0)


def test_zero_area_bowtie_inside_a_dont_care_region_stays_a_false_positive():
    # Official: share = 0 when area(det) = 0, so the bow-tie is counted (a false positive);
    # repaired: 50 / 50 = 1 > 0.5, don't-care.
    gts = [rect(0, 0, 10, 10), rect(50, 0, 60, 10)]
    preds = [BOWTIE, rect(50, 0, 60, 10)]
    image = sample(gts, preds, ignored=[True, False])
    assert_scores(evaluate([image]), 0.5, 1.0)
    assert_scores(evaluate([image], area_rule='repaired'), 1.0, 1.0)


def test_a_ring_around_a_square_twice_is_empty_by_the_even_odd_rule():
    twice = list(rect(0, 0, 10, 10)) * 2
    assert_scores(evaluate([sample([rect(0, 0, 10, 10)], [twice])]), 0.0, 0.0)


def test_strategy_max_matching_finds_the_largest_matching():
    # See test_greedy_matching_in_ground_truth_then_detection_order: greedy finds 1 match in
    # this order, a maximum matching 2 in either order.
    gts = [rect(0, 0, 10, 10), rect(3, 0, 13, 10)]
    det0, det1 = rect(1, 0, 11, 10), rect(-1, 0, 9, 10)
    for dets in ([det0, det1], [det1, det0]):
        assert_scores(evaluate([sample(gts, dets)], strategy='max_matching'), 1.0, 1.0)
    # Don't-care ground truths stay out of it: with gt1 '###' (both dets lie in it by more
    # than half, so both are don't-care too) nothing counts.
    image = sample(gts, [det0, det1], ignored=[False, True])
    assert_scores(evaluate([image], strategy='max_matching'), 0.0, 0.0)
    # A third det far from both gts stays a false positive: P 2/3, R 1.
    far = rect(50, 0, 60, 10)
    assert_scores(evaluate([sample(gts, [det0, det1, far])], strategy='max_matching'), 2 / 3, 1.0)


def test_threshold_sweep_reports_the_best_threshold_next_to_the_official_numbers():
    # gts A, B. dets: A (0.9), B (0.4), false positive (0.6), false positive (0.2).
    gts = [rect(0, 0, 10, 10), rect(20, 0, 30, 10)]
    preds = [rect(0, 0, 10, 10), rect(20, 0, 30, 10), rect(50, 0, 60, 10), rect(70, 0, 80, 10)]
    image = sample(gts, preds, scores=[0.9, 0.4, 0.6, 0.2])
    result = evaluate([image], pred_score_thrs=[0.3, 0.5, 0.7])
    # official (all dets): 2 / 4 and 2 / 2
    assert_scores(result, 0.5, 1.0)
    # >= 0.3: P 2/3, R 1, H 0.8 (best); >= 0.5: P 1/2 R 1/2; >= 0.7: P 1 R 1/2, H 2/3
    assert result['best_score_thr'] == pytest.approx(0.3)
    assert result['best_precision'] == pytest.approx(2 / 3)
    assert result['best_recall'] == pytest.approx(1.0)
    assert result['best_hmean'] == pytest.approx(0.8)


def test_threshold_sweep_ties_keep_the_lowest_threshold():
    image = sample([rect(0, 0, 10, 10)], [rect(0, 0, 10, 10)], scores=[0.95])
    result = evaluate([image], pred_score_thrs=dict(start=0.3, stop=0.9, step=0.1))
    assert result['best_score_thr'] == pytest.approx(0.3) and result['best_hmean'] == 1.0


def test_sweep_without_scores_is_rejected():
    image = sample([rect(0, 0, 10, 10)], [rect(0, 0, 10, 10)])
    del image['pred_instances']['scores']
    assert_scores(evaluate([image]), 1.0, 1.0)  # fine without a sweep
    with pytest.raises(ValueError, match='scores'):
        evaluate([image], pred_score_thrs=[0.5])


def test_round_coords_uses_integer_coordinates_like_a_submission_file():
    gt, pred = rect(0, 0, 2, 1), rect(0, 0, 1.4, 1)
    # rounded (the default) to [0,1]x[0,1]: IoU exactly 0.5 -> not matched
    assert_scores(evaluate([sample([gt], [pred])]), 0.0, 0.0)
    assert_scores(evaluate([sample([gt], [pred])], round_coords=False), 1.0, 1.0)  # IoU 0.7


def test_thresholds_are_configurable():
    gt, pred = rect(0, 0, 10, 1), rect(0, 0, 7, 1)  # IoU 0.7
    assert_scores(evaluate([sample([gt], [pred])], match_iou_thr=0.7), 0.0, 0.0)
    assert_scores(evaluate([sample([gt], [pred])], match_iou_thr=0.69), 1.0, 1.0)
    # det0 lies 70 % inside the '###' region; det1 finds the cared gt1.
    image = sample([rect(0, 0, 10, 10), rect(50, 0, 60, 10)],
                   [rect(3, 0, 13, 10), rect(50, 0, 60, 10)], ignored=[True, False])
    assert_scores(evaluate([image], ignore_precision_thr=0.7), 0.5, 1.0)  # det0 counted
    assert_scores(evaluate([image], ignore_precision_thr=0.69), 1.0, 1.0)  # det0 don't-care


@pytest.mark.parametrize('kwargs,match', [
    (dict(match_iou_thr=1.5), 'match_iou_thr'),
    (dict(pred_score_thrs=dict(start=0.9, stop=0.3, step=0.1)), 'at least one'),
    (dict(pred_score_thrs=dict(begin=0.3)), 'start, stop, step'),
    (dict(pred_score_thrs=[]), 'pred_score_thrs'),
    (dict(strategy='hungarian'), 'strategy'),
    (dict(area_rule='buffer0'), 'area_rule'),
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


def test_package_level_import_and_registry_build_through_mmocr_scope():
    from mmengine.registry import init_default_scope
    from mmocr.registry import METRICS
    from mmocr.structures import TextDetDataSample

    from mmpse_ext.evaluation import ICDAR2015HmeanMetric as exported
    assert exported is ICDAR2015HmeanMetric

    init_default_scope('mmocr')
    metric = METRICS.build(dict(type='mmpse_ext.ICDAR2015HmeanMetric', pred_score_thrs=[0.5]))
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
        'icdar2015/precision': 1.0, 'icdar2015/recall': 1.0, 'icdar2015/hmean': 1.0,
        'icdar2015/best_score_thr': 0.5, 'icdar2015/best_precision': 1.0,
        'icdar2015/best_recall': 1.0, 'icdar2015/best_hmean': 1.0
    }


def test_one_evaluator_holds_ours_and_mmocrs_metric():
    from mmocr.evaluation import HmeanIOUMetric

    # gt A matched by a det scored 0.9; gt B only by a det scored 0.2 (below MMOCR's sweep);
    # one false positive scored 0.95. Ours (all predictions): P 2/3, R 1. MMOCR's best over
    # 0.3 .. 0.9: at 0.3 P 1/2 R 1/2 -> H 0.5.
    gts = [rect(0, 0, 10, 10), rect(20, 0, 30, 10)]
    preds = [rect(0, 0, 10, 10), rect(20, 0, 30, 10), rect(50, 0, 60, 10)]
    samples = [sample(gts, preds, scores=[0.9, 0.2, 0.95])]
    evaluator = Evaluator([ICDAR2015HmeanMetric(), HmeanIOUMetric()])
    evaluator.process(samples)
    result = evaluator.evaluate(1)
    assert result['icdar2015/precision'] == pytest.approx(2 / 3)
    assert result['icdar2015/recall'] == pytest.approx(1.0)
    assert result['icdar/hmean'] == pytest.approx(0.5)
    assert result['icdar/precision'] == pytest.approx(0.5)


# ---------------------------------------------------------------------------------------------
# The official script's computation (icdar2015_official_reference.py) on submissions.


def _images_for_reference(samples, score_thr=None, round_coords=True):
    """Data samples as the reference's (gt points, ### flags, det points) per image."""
    images = []
    for s in samples:
        keep = [score_thr is None or v >= np.float32(score_thr)
                for v in np.asarray(s['pred_instances']['scores'], np.float32)]
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
    bowties = sum(not shapely.Polygon(np.reshape(p, (-1, 2))).is_valid
                  for s in samples for p in s['pred_instances']['polygons'])
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
    swept = [ref.official_counts(_images_for_reference(samples, t), ref.ExactGeometry)
             for t in thrs]
    best = int(np.argmax([r['hmean'] for r in swept]))  # the first (lowest) on ties
    result = evaluate(samples, pred_score_thrs=thrs)
    assert result['best_score_thr'] == thrs[best]
    assert result['best_hmean'] == pytest.approx(swept[best]['hmean'], abs=1e-6)
    _assert_same_scores(result, exact)


def test_equals_the_official_script_with_polygon3_on_icdar2015_style_submissions():
    """Polygon3 is the official script's geometry library (installed for the tests only)."""
    pytest.importorskip('Polygon', reason="Polygon3 (the official script's geometry) is not "
                        'installed: pip install Polygon3')
    for seed in (0, 1, 2, 3):
        gt_files, det_files, samples = ref.make_submission(seed, num_images=60)
        official = ref.official_scores(gt_files, det_files, ref.Polygon3Geometry)
        assert official['matched'] > 50
        _assert_same_scores(evaluate(samples), official)
        if seed == 0:  # the two references agree as well
            assert ref.official_scores(gt_files, det_files, ref.ExactGeometry) == official


def random_images(seed, num_images=40, noise=(1.0, 4.0)):
    """Clustered, overlapping float quads: words, near-duplicates, bow-ties, '###' regions."""
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
                quad = corners * rng.uniform(0.8, 1.3) + centre + shift + jitter
                if rng.uniform() < 0.1:
                    quad = quad[[0, 2, 1, 3]]  # a bow-tie
                preds.append(quad.reshape(-1))
        for _ in range(int(rng.integers(0, 3))):  # false positives
            x, y = rng.uniform(0, 200, 2)
            preds.append(rect(x, y, x + rng.uniform(5, 40), y + rng.uniform(5, 15)))
        ignored = (rng.uniform(size=len(gts)) < 0.2).tolist()
        images.append(sample(gts, preds, ignored, rng.uniform(0, 1, len(preds)).tolist()))
    return images


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
            np.random.default_rng(0).choice([0.3, 0.4, 0.6, 0.7, 0.8, 0.9], len(keep))[keep]
            .astype(np.float32))
    for strategy in ('vanilla', 'max_matching'):
        for sweep in (dict(start=0.3, stop=0.9, step=0.1), dict(start=0.5, stop=0.8, step=0.1)):
            ours = evaluate(images, pred_score_thrs=sweep, strategy=strategy, round_coords=False)
            mmocr_metric = HmeanIOUMetric(pred_score_thrs=sweep, strategy=strategy)
            mmocr_metric.process({}, images)
            theirs = mmocr_metric.compute_metrics(mmocr_metric.results)
            assert ours['best_hmean'] == pytest.approx(theirs['hmean'])
            assert ours['best_precision'] == pytest.approx(theirs['precision'])
            assert ours['best_recall'] == pytest.approx(theirs['recall'])
