"""ICDAR2015HmeanMetric's options on hand-computed cases (matching strategy, score-threshold
sweep, coordinate rounding, thresholds) and its refusal of bad arguments and bad samples."""
import pytest
from hmean_samples import assert_scores, evaluate, rect, sample

from mmpse_ext.evaluation.metrics import ICDAR2015HmeanMetric


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
                   [rect(3, 0, 13, 10), rect(50, 0, 60, 10)],
                   ignored=[True, False])
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
