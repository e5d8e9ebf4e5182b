"""The ICDAR2015 formulas: IoU, don't-care detections, greedy matching, pooled scores."""
import numpy as np
import pytest

from mmpse_ext.evaluation.functional import (dont_care_detections, greedy_match_count,
                                             intersection_over_union, max_matching_count,
                                             pooled_scores)


def test_iou_by_hand_and_zero_union():
    inter = np.array([[1.0, 0.0], [0.0, 0.0]])
    iou = intersection_over_union(
        inter, gt_areas=np.array([2.0, 0.0]), det_areas=np.array([1.0, 0.0]))
    # 1 / (2 + 1 - 1) = 0.5; 0 / (2 + 0) = 0; empty union (both areas 0) gives 0, not NaN.
    np.testing.assert_array_equal(iou, [[0.5, 0.0], [0.0, 0.0]])


def test_dont_care_needs_strictly_more_than_the_threshold():
    # det areas 10; the don't-care gt covers 5 (exactly 0.5), 5.01 and 10 of them.
    inter = np.array([[5.0, 5.01, 10.0]])
    flags = dont_care_detections(inter, np.full(3, 10.0), np.array([True]), 0.5)
    assert flags.tolist() == [False, True, True]


def test_dont_care_ignores_cared_ground_truths():
    inter = np.array([[10.0], [0.0]])  # a cared gt covers the whole det
    flags = dont_care_detections(inter, np.array([10.0]), np.array([False, True]))
    assert flags.tolist() == [False]


def test_dont_care_is_checked_per_ground_truth_not_on_their_union():
    # Two don't-care gts each cover half (0.5) of the det: together all of it, but the official
    # rule looks at one don't-care gt at a time, so the det stays cared.
    inter = np.array([[5.0], [5.0]])
    flags = dont_care_detections(inter, np.array([10.0]), np.array([True, True]))
    assert flags.tolist() == [False]


def test_zero_area_detection_is_never_dont_care():
    flags = dont_care_detections(np.zeros((1, 1)), np.zeros(1), np.array([True]))
    assert flags.tolist() == [False]


def _pairs(iou, thr=0.5):
    return np.argwhere(np.asarray(iou) > thr)


def test_greedy_follows_ground_truth_then_detection_order():
    # gt0 overlaps det0 and det1, gt1 only det0. The official greedy pass gives gt0 det0 and
    # leaves gt1 unmatched (1 match), although a maximum matching would find 2.
    iou = [[0.8, 0.8], [0.7, 0.4]]
    assert greedy_match_count(_pairs(iou), np.ones(2, bool), np.ones(2, bool)) == 1
    # With the detections in the other order gt0 takes det(old 1) and gt1 gets det(old 0).
    swapped = np.asarray(iou)[:, ::-1]
    assert greedy_match_count(_pairs(swapped), np.ones(2, bool), np.ones(2, bool)) == 2


def test_greedy_is_one_to_one():
    one_det_two_gts = [[0.9], [0.9]]
    assert greedy_match_count(_pairs(one_det_two_gts), np.ones(2, bool), np.ones(1, bool)) == 1
    two_dets_one_gt = [[0.9, 0.9]]
    assert greedy_match_count(_pairs(two_dets_one_gt), np.ones(1, bool), np.ones(2, bool)) == 1


def test_greedy_skips_dont_care_rows_and_columns():
    iou = [[0.9, 0.6], [0.6, 0.9]]
    # gt0 is don't-care and not matched: only gt1 can match (it takes det0, first in order).
    assert greedy_match_count(_pairs(iou), np.array([False, True]), np.ones(2, bool)) == 1
    # det0 is don't-care: gt0 takes det1, gt1 has nothing left.
    assert greedy_match_count(_pairs(iou), np.ones(2, bool), np.array([False, True])) == 1
    assert greedy_match_count(_pairs(iou), np.ones(2, bool), np.ones(2, bool)) == 2


def test_max_matching_finds_what_greedy_misses():
    iou = [[0.8, 0.8], [0.7, 0.4]]  # greedy: 1 (see above); gt0-det1 + gt1-det0 = 2
    assert max_matching_count(_pairs(iou), np.ones(2, bool), np.ones(2, bool)) == 2


def test_max_matching_follows_augmenting_paths():
    # gt0 overlaps det0 and det1, gt1 det1 and det2, gt2 only det0. Greedy: gt0-det0, gt1-det1,
    # gt2 left alone (2). Maximum: gt0-det1, gt1-det2, gt2-det0 (3).
    iou = [[0.9, 0.9, 0.0], [0.0, 0.9, 0.9], [0.9, 0.0, 0.0]]
    assert greedy_match_count(_pairs(iou), np.ones(3, bool), np.ones(3, bool)) == 2
    assert max_matching_count(_pairs(iou), np.ones(3, bool), np.ones(3, bool)) == 3


def test_max_matching_skips_dont_care_rows_and_columns():
    iou = [[0.9, 0.6], [0.6, 0.9]]
    assert max_matching_count(_pairs(iou), np.array([False, True]), np.ones(2, bool)) == 1
    assert max_matching_count(_pairs(iou), np.ones(2, bool), np.array([False, False])) == 0
    assert max_matching_count(np.zeros((0, 2), int), np.ones(2, bool), np.ones(2, bool)) == 0


def test_pooled_scores_by_hand():
    scores = pooled_scores(num_matched=2, num_gt=4, num_det=3)
    assert scores.recall == pytest.approx(0.5)
    assert scores.precision == pytest.approx(2 / 3)
    assert scores.hmean == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert (scores.num_matched, scores.num_gt, scores.num_det) == (2, 4, 3)


@pytest.mark.parametrize('num_gt,num_det', [(0, 0), (0, 3), (3, 0)])
def test_pooled_scores_empty_sets_give_zero(num_gt, num_det):
    scores = pooled_scores(0, num_gt, num_det)
    assert (scores.precision, scores.recall, scores.hmean) == (0.0, 0.0, 0.0)
