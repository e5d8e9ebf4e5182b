"""Total-Text's DetEval detection protocol, as formulas.

The rules of the evaluation script that published PSENet Total-Text numbers come from
(whai362/PSENet ``eval/tt/Deteval.py``, Polygon3 geometry; DetEval of Wolf & Jolion with the
Total-Text authors' ``tr = 0.7``, ``tp = 0.6``, ``fsc_k = 0.8``, ``k = 2``):

* a detection whose intersection with one don't-care (``#``) ground truth covers strictly more
  than 0.5 of its area is removed; then the don't-care ground truths are removed;
* for the remaining pairs, ``sigma = inter / area(gt)`` (how much of the word is covered) and
  ``tau = inter / area(det)`` (how much of the detection is on the word);
* per image, three passes, in this order, each pair of a ground truth and a detection counted
  at most by the first pass that takes it:

  1. **one-to-one**, for each ground truth: exactly one detection with ``sigma > tr`` and exactly
     one (not necessarily the same) with ``tau > tp`` in its row. The ground truth and the
     ``sigma`` detection are marked; recall and precision each gain 1. This pass reads only the
     tables (no marks), so a detection can be taken twice.
  2. **one-to-many (split word)**, for each unmarked ground truth with at least ``k``
     detections of ``sigma > 0``: the unmarked detections with ``tau >= tp`` are the
     candidates. One candidate: taken as one-to-one when ``tau >= tp`` and ``sigma >= tr``.
     Several: taken when their ``sigma`` sum to ``>= tr``; recall gains ``fsc_k``, precision
     ``fsc_k`` per detection.
  3. **many-to-one (merged words)**, for each unmarked detection with at least ``k`` ground
     truths of ``tau > 0``: the unmarked ground truths with ``sigma >= tp`` are the candidates.
     One candidate: one-to-one when ``tau >= tp`` and ``sigma >= tr``. Several: taken when their
     ``tau`` sum to ``>= tp``; recall gains ``fsc_k`` per ground truth, precision ``fsc_k``.

* the gains are pooled over the dataset: ``recall = sum / ground truths``, ``precision = sum /
  detections`` (both after the removals above; 0 for an empty set), ``hmean = 2PR / (P + R)``
  (0 when P + R = 0).

The script divides by zero (and stops) on a zero-area ground truth or detection; here a ratio
with a zero denominator is 0, so such a polygon never counts as covering or covered.
"""
from typing import NamedTuple, Tuple

import numpy as np

#: The official parameters: ``tr`` (sigma threshold), ``tp`` (tau threshold), ``fsc_k`` (credit
#: of a split or merged match), ``k`` (overlaps that make a split or merge possible).
OFFICIAL_TR, OFFICIAL_TP, OFFICIAL_FSC_K, OFFICIAL_K = 0.7, 0.6, 0.8, 2


class DetEvalMatches(NamedTuple):
    """What the three passes took in one image (or summed over images).

    Attributes:
        one_to_one (int): one-to-one matches (from any pass); each adds 1 to recall and
            precision.
        split_gts (int): ground truths matched by several detections (one-to-many).
        split_dets (int): detections in those matches.
        merged_gts (int): ground truths in many-to-one matches.
        merged_dets (int): detections matched to several ground truths.
    """
    one_to_one: int = 0
    split_gts: int = 0
    split_dets: int = 0
    merged_gts: int = 0
    merged_dets: int = 0

    def __add__(self, other: 'DetEvalMatches') -> 'DetEvalMatches':
        return DetEvalMatches(*(a + b for a, b in zip(self, other)))


class DetEvalScores(NamedTuple):
    """Pooled DetEval result.

    Attributes:
        precision (float): ``precision_credit / num_det`` (0 when ``num_det == 0``).
        recall (float): ``recall_credit / num_gt`` (0 when ``num_gt == 0``).
        hmean (float): harmonic mean of the two (0 when both are 0).
        recall_credit (float): ``one_to_one + fsc_k * (split_gts + merged_gts)``.
        precision_credit (float): ``one_to_one + fsc_k * (split_dets + merged_dets)``.
        num_gt (int): cared ground truths.
        num_det (int): detections left after the don't-care filter.
        matches (DetEvalMatches): the match counts.
    """
    precision: float
    recall: float
    hmean: float
    recall_credit: float
    precision_credit: float
    num_gt: int
    num_det: int
    matches: DetEvalMatches


def coverage_tables(intersections: np.ndarray, gt_areas: np.ndarray,
                    det_areas: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """DetEval's ``sigma`` and ``tau`` tables.

    Args:
        intersections (np.ndarray[G, D], float64): intersection areas.
        gt_areas (np.ndarray[G], float64): ground-truth areas.
        det_areas (np.ndarray[D], float64): detection areas.

    Returns:
        tuple[np.ndarray[G, D], np.ndarray[G, D]]: ``sigma = inter / area(gt)`` and
        ``tau = inter / area(det)``, float64, 0 where the area is 0.
    """
    sigma = np.divide(
        intersections,
        gt_areas[:, None],
        out=np.zeros_like(intersections),
        where=gt_areas[:, None] > 0)
    tau = np.divide(
        intersections,
        det_areas[None, :],
        out=np.zeros_like(intersections),
        where=det_areas[None, :] > 0)
    return sigma, tau


def deteval_matches(sigma: np.ndarray,
                    tau: np.ndarray,
                    tr: float = OFFICIAL_TR,
                    tp: float = OFFICIAL_TP,
                    k: int = OFFICIAL_K) -> DetEvalMatches:
    """The three matching passes of one image (see the module docstring).

    Args:
        sigma (np.ndarray[G, D], float64): ``inter / area(gt)`` of the cared ground truths and
            the detections left after the don't-care filter, in their order.
        tau (np.ndarray[G, D], float64): ``inter / area(det)`` of the same pairs.
        tr (float): sigma threshold.
        tp (float): tau threshold (and the sigma a merge candidate needs).
        k (int): overlapping partners a split or merge needs.

    Returns:
        DetEvalMatches: the counts of this image.
    """
    num_gt, num_det = sigma.shape
    if num_gt == 0 or num_det == 0:
        return DetEvalMatches()
    # 1. one-to-one: decided on the tables alone, so every row at once.
    sigma_hits, tau_hits = sigma > tr, tau > tp
    one_to_one = (sigma_hits.sum(axis=1) == 1) & (tau_hits.sum(axis=1) == 1)
    gt_done = one_to_one.copy()
    det_done = sigma_hits[one_to_one].any(axis=0)
    ones = int(one_to_one.sum())
    split_gts = split_dets = merged_gts = merged_dets = 0
    # 2. one-to-many, ground truths in order. Only this ground truth's mark changes here, so
    # the ones to visit can be chosen up front.
    overlapping_dets = (sigma > 0).sum(axis=1)
    for g in np.flatnonzero(~gt_done & (overlapping_dets >= k)).tolist():
        candidates = np.flatnonzero((tau[g] >= tp) & ~det_done)
        if candidates.size == 1:
            d = int(candidates[0])
            if tau[g, d] >= tp and sigma[g, d] >= tr:
                ones += 1
                gt_done[g] = det_done[d] = True
        elif np.sum(sigma[g, candidates]) >= tr:
            gt_done[g] = True
            det_done[candidates] = True
            split_gts += 1
            split_dets += candidates.size
    # 3. many-to-one, detections in order (only this detection's mark changes here).
    overlapping_gts = (tau > 0).sum(axis=0)
    for d in np.flatnonzero(~det_done & (overlapping_gts >= k)).tolist():
        candidates = np.flatnonzero((sigma[:, d] >= tp) & ~gt_done)
        if candidates.size == 1:
            g = int(candidates[0])
            if tau[g, d] >= tp and sigma[g, d] >= tr:
                ones += 1
                gt_done[g] = det_done[d] = True
        elif np.sum(tau[candidates, d]) >= tp:
            det_done[d] = True
            gt_done[candidates] = True
            merged_gts += candidates.size
            merged_dets += 1
    return DetEvalMatches(ones, split_gts, split_dets, merged_gts, merged_dets)


def deteval_scores(matches: DetEvalMatches,
                   num_gt: int,
                   num_det: int,
                   fsc_k: float = OFFICIAL_FSC_K) -> DetEvalScores:
    """Precision, recall and hmean from match counts pooled over a dataset.

    Args:
        matches (DetEvalMatches): summed over the images.
        num_gt (int): cared ground truths over the images.
        num_det (int): detections left after the don't-care filter, over the images.
        fsc_k (float): credit of each ground truth or detection in a split or merge.

    Returns:
        DetEvalScores.
    """
    recall_credit = matches.one_to_one + fsc_k * (matches.split_gts + matches.merged_gts)
    precision_credit = matches.one_to_one + fsc_k * (matches.split_dets + matches.merged_dets)
    recall = recall_credit / num_gt if num_gt > 0 else 0.0
    precision = precision_credit / num_det if num_det > 0 else 0.0
    total = precision + recall
    hmean = 2.0 * precision * recall / total if total > 0 else 0.0
    return DetEvalScores(precision, recall, hmean, float(recall_credit), float(precision_credit),
                         int(num_gt), int(num_det), matches)
