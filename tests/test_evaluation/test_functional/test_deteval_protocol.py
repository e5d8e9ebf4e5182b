"""The DetEval formulas on sigma / tau tables computed by hand: every branch of the three passes.

Tables are ``[ground truth, detection]``; sigma = inter / area(gt), tau = inter / area(det).
The official parameters: tr = 0.7, tp = 0.6, fsc_k = 0.8, k = 2.
"""
import numpy as np
import pytest

from mmpse_ext.evaluation.functional import (DetEvalMatches, coverage_tables, deteval_matches,
                                             deteval_scores)


def matches(sigma, tau, **kwargs):
    return deteval_matches(np.array(sigma, np.float64), np.array(tau, np.float64), **kwargs)


def test_coverage_tables_by_hand_and_zero_areas():
    inter = np.array([[2.0, 0.0], [1.0, 0.0]])
    sigma, tau = coverage_tables(inter, np.array([4.0, 0.0]), np.array([8.0, 0.0]))
    np.testing.assert_array_equal(sigma, [[0.5, 0.0], [0.0, 0.0]])  # gt 1 has area 0
    np.testing.assert_array_equal(tau, [[0.25, 0.0], [0.125, 0.0]])  # det 1 has area 0


def test_one_to_one():
    # gt0 - det1 cover each other; gt1 has no partner.
    assert matches([[0.1, 0.95], [0.0, 0.0]], [[0.05, 0.9], [0.0, 0.0]]) == (1, 0, 0, 0, 0)


def test_one_to_one_needs_strictly_more_than_tr_and_tp():
    # sigma = 0.7 exactly: pass 1 fails; one overlap only, so passes 2 and 3 do not apply.
    assert matches([[0.7]], [[1.0]]) == (0, 0, 0, 0, 0)
    assert matches([[0.71]], [[1.0]]) == (1, 0, 0, 0, 0)
    assert matches([[1.0]], [[0.6]]) == (0, 0, 0, 0, 0)  # tau = 0.6 exactly
    assert matches([[1.0]], [[0.61]]) == (1, 0, 0, 0, 0)


def test_one_to_one_counts_the_sigma_and_the_tau_detection_separately():
    # det0 covers the word but is mostly elsewhere (tau 0.5); det1 is a small piece on it
    # (sigma 0.05, tau 1). One of each -> the official pass 1 takes it; det0 is marked, det1
    # is not, and it cannot be taken later (one overlap only): recall 1 of 1, 1 credit for 2 dets.
    assert matches([[1.0, 0.05]], [[0.5, 1.0]]) == (1, 0, 0, 0, 0)


def test_one_to_one_reads_no_marks_so_a_detection_can_serve_two_ground_truths():
    # Two identical ground truths, one detection on both: pass 1 takes both rows.
    assert matches([[1.0], [1.0]], [[1.0], [1.0]]) == (2, 0, 0, 0, 0)


def test_split_word_sums_sigma_of_the_pieces_with_tau_at_least_tp():
    # pieces det0, det1 (tau >= 0.6) cover 0.45 + 0.3 = 0.75 >= 0.7; det2 (tau 0.5) is no piece.
    result = matches([[0.45, 0.3, 0.1]], [[1.0, 0.9, 0.5]])
    assert result == (0, 1, 2, 0, 0)
    # pieces covering 0.3 + 0.3 = 0.6 < 0.7: nothing
    assert matches([[0.3, 0.3]], [[1.0, 1.0]]) == (0, 0, 0, 0, 0)
    # tau = 0.6 exactly is enough for a piece (>=), sum = 0.7 exactly is enough too
    assert matches([[0.35, 0.35]], [[0.6, 0.6]]) == (0, 1, 2, 0, 0)


def test_duplicate_detections_make_a_split():
    # Two copies of the word: two with sigma > tr, so not one-to-one; pass 2 takes both.
    assert matches([[1.0, 1.0]], [[1.0, 1.0]]) == (0, 1, 2, 0, 0)


def test_split_with_one_piece_becomes_one_to_one_at_tr_and_tp_inclusive():
    # det0: sigma 0.7, tau 0.6 (both fail pass 1's strict tests); det1 overlaps a little.
    assert matches([[0.7, 0.2]], [[0.6, 0.1]]) == (1, 0, 0, 0, 0)
    assert matches([[0.69, 0.2]], [[0.6, 0.1]]) == (0, 0, 0, 0, 0)
    # any overlap counts towards k, however small
    assert matches([[0.7, 0.001]], [[0.6, 0.001]]) == (1, 0, 0, 0, 0)


def test_split_needs_k_overlapping_detections():
    assert matches([[0.45, 0.3]], [[1.0, 0.9]], k=3) == (0, 0, 0, 0, 0)


def test_merged_words_sum_tau_of_the_words_with_sigma_at_least_tp():
    # one detection over two words: tau 0.45 + 0.35 = 0.8 >= 0.6, both sigma >= 0.6
    assert matches([[1.0], [0.95]], [[0.45], [0.35]]) == (0, 0, 0, 2, 1)
    # a word the detection covers only 0.55 of is not part of the merge (sigma < tp)
    assert matches([[0.65], [0.65], [0.55]], [[0.3], [0.3], [0.2]]) == (0, 0, 0, 2, 1)
    # tau sum 0.25 + 0.25 < 0.6: nothing
    assert matches([[1.0], [1.0]], [[0.25], [0.25]]) == (0, 0, 0, 0, 0)


def test_merge_with_one_word_becomes_one_to_one():
    # tau = 0.6 exactly fails pass 1 (> tp) but passes pass 3 (>= tp); the second word overlaps.
    assert matches([[1.0], [0.0625]], [[0.6], [0.0667]]) == (1, 0, 0, 0, 0)


def test_a_detection_taken_one_to_one_is_no_piece_of_a_split():
    # (overlapping ground truths) pass 1: gt0 - det0. gt1 would be split over det0 + det1
    # (0.5 + 0.3 >= 0.7), but det0 is taken: its only piece det1 covers 0.3 < 0.7 -> nothing.
    sigma = [[0.9, 0.0], [0.5, 0.3]]
    tau = [[0.95, 0.0], [0.7, 0.9]]
    assert matches(sigma, tau) == (1, 0, 0, 0, 0)
    # without gt0 the split happens
    assert matches(sigma[1:], tau[1:]) == (0, 1, 2, 0, 0)


def test_a_ground_truth_taken_one_to_one_is_not_merged():
    # pass 1: gt0 - det1 (det0 covers gt0 only 0.65). det0 lies on gt0 and gt1: its merge
    # candidates would be gt0 and gt1 (sigma >= 0.6, tau 0.45 + 0.35 >= 0.6), but gt0 is taken
    # and gt1 alone has tau 0.35 < 0.6 -> nothing.
    sigma = [[0.65, 0.9], [0.95, 0.0]]
    tau = [[0.45, 0.95], [0.35, 0.0]]
    assert matches(sigma, tau) == (1, 0, 0, 0, 0)
    # without det1 the merge happens
    assert matches([[0.65], [0.95]], [[0.45], [0.35]]) == (0, 0, 0, 2, 1)


def test_empty_tables():
    assert matches(np.zeros((0, 3)), np.zeros((0, 3))) == DetEvalMatches()
    assert matches(np.zeros((2, 0)), np.zeros((2, 0))) == DetEvalMatches()


def test_pooled_scores_by_hand():
    # 3 one-to-one, a split word (1 gt, 2 dets), a merge (2 gts, 1 det); 10 gts, 8 dets.
    scores = deteval_scores(DetEvalMatches(3, 1, 2, 2, 1), num_gt=10, num_det=8)
    assert scores.recall_credit == pytest.approx(3 + 0.8 * 3)
    assert scores.precision_credit == pytest.approx(3 + 0.8 * 3)
    assert scores.recall == pytest.approx(0.54)
    assert scores.precision == pytest.approx(0.675)
    assert scores.hmean == pytest.approx(0.6)  # 2 * 0.54 * 0.675 / 1.215
    assert deteval_scores(DetEvalMatches(), 0, 0)[:3] == (0.0, 0.0, 0.0)
    assert deteval_scores(DetEvalMatches(0, 1, 2, 0, 0), 1, 2, fsc_k=0.5)[:2] == (0.5, 0.5)
