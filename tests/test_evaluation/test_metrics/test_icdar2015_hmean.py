"""ICDAR2015HmeanMetric: every rule of the official protocol on hand-computed cases (matching,
don't-care regions, pooling, degenerate and self-intersecting polygons)."""
from unittest import mock

from hmean_samples import assert_scores, evaluate, rect, sample

from mmpse_ext.evaluation.metrics import ICDAR2015HmeanMetric

LOG = 'mmpse_ext.evaluation.metrics.icdar2015_hmean.print_log'


def test_perfect_detection():
    result = evaluate(
        [sample([rect(0, 0, 10, 5), rect(20, 0, 30, 5)],
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
    image_b = sample(
        [rect(0, 0, 10, 10), rect(20, 0, 30, 10),
         rect(40, 0, 50, 10)],
        [rect(0, 0, 10, 10), rect(100, 0, 110, 10),
         rect(200, 0, 210, 10)])
    # An image with nothing in it changes nothing (per image it would score P = R = 1).
    empty = sample()
    assert_scores(evaluate([image_a, image_b, empty]), 0.5, 0.5, 0.5)


def test_batches_give_the_same_result_as_one_batch():
    images = [
        sample([rect(0, 0, 10, 10)], [rect(0, 0, 10, 10)]),
        sample([rect(0, 0, 10, 10), rect(20, 0, 30, 10)], [rect(21, 0, 30, 10)]),
        sample([], [rect(0, 0, 5, 5)])
    ]
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
    assert_scores(
        evaluate([sample([triangle], [bowtie])], match_iou_thr=0.75, area_rule='repaired'), 0.0,
        0.0)
    assert_scores(evaluate([sample([triangle], [bowtie])], match_iou_thr=0.7), 1.0, 1.0)
    assert_scores(
        evaluate([sample([triangle], [bowtie])], match_iou_thr=0.69, area_rule='repaired'), 1.0,
        1.0)


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
