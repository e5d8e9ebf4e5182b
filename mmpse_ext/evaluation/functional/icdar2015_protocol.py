"""The ICDAR2015 (Robust Reading Challenge 4, task 4.1) detection protocol, as formulas.

Facts from the official evaluation script (``script.py`` with ``IOU_CONSTRAINT=0.5``,
``AREA_PRECISION_CONSTRAINT=0.5``, ``CONFIDENCES=False``):

* a ground truth whose transcription is ``###`` is *don't-care*;
* a detection is don't-care when, for some don't-care ground truth,
  ``intersection / area(detection) > 0.5`` (0 when the detection's area is 0);
* ``IoU = intersection / (area(det) + area(gt) - intersection)`` (0 when the union is 0);
* matching is greedy and one-to-one: ground truths in their order, for each the detections
  in their order; a cared, still unmatched pair with ``IoU > 0.5`` is matched. Detections keep
  the order they are given in (task 4.1 runs with ``CONFIDENCES=False``, so the submission
  file's order; the script sorts by confidence only when confidences are on);
* don't-care ground truths and detections are left out of every count; the method's result
  pools the counts over the dataset: ``recall = matched / cared_gt`` (0 when there is no cared
  ground truth), ``precision = matched / cared_det`` (0 when there is no cared detection) and
  ``hmean = 2PR / (P + R)`` (0 when P + R = 0).

The official *per-image* numbers use other empty-set conventions (recall 1 when an image has no
cared ground truth; precision 1 then if it has no cared detection either, else 0), but they only
go into its per-sample report, never into the method's result, which is what we compute.
"""
from typing import NamedTuple

import numpy as np


class DetectionScores(NamedTuple):
    """Pooled counts and the resulting scores.

    Attributes:
        precision (float): ``num_matched / num_det`` (0 when ``num_det == 0``).
        recall (float): ``num_matched / num_gt`` (0 when ``num_gt == 0``).
        hmean (float): harmonic mean of the two (0 when both are 0).
        num_matched (int): matched pairs.
        num_gt (int): cared ground truths.
        num_det (int): cared detections.
    """
    precision: float
    recall: float
    hmean: float
    num_matched: int
    num_gt: int
    num_det: int


def intersection_over_union(intersections: np.ndarray, gt_areas: np.ndarray,
                            det_areas: np.ndarray) -> np.ndarray:
    """IoU of every ground truth with every detection.

    Args:
        intersections (np.ndarray[G, D], float64): intersection areas.
        gt_areas (np.ndarray[G], float64): ground-truth areas.
        det_areas (np.ndarray[D], float64): detection areas.

    Returns:
        np.ndarray[G, D], float64: ``inter / (area_gt + area_det - inter)``, 0 where the union
        is 0.
    """
    unions = gt_areas[:, None] + det_areas[None, :] - intersections
    return np.divide(intersections, unions, out=np.zeros_like(intersections), where=unions > 0)


def dont_care_detections(intersections: np.ndarray,
                         det_areas: np.ndarray,
                         gt_dont_care: np.ndarray,
                         area_precision_thr: float = 0.5) -> np.ndarray:
    """Detections that lie mostly inside one don't-care ground truth.

    Args:
        intersections (np.ndarray[G, D], float64): intersection areas.
        det_areas (np.ndarray[D], float64): detection areas.
        gt_dont_care (np.ndarray[G], bool): don't-care (``###``) ground truths.
        area_precision_thr (float): a detection is don't-care when its intersection with a
            single don't-care ground truth covers strictly more than this share of its area.

    Returns:
        np.ndarray[D], bool.
    """
    covered = intersections[gt_dont_care]  # [G_dont_care, D]
    shares = np.divide(
        covered, det_areas[None, :], out=np.zeros_like(covered), where=det_areas[None, :] > 0)
    return (shares > area_precision_thr).any(axis=0)


def greedy_match_count(candidate_pairs: np.ndarray, gt_cared: np.ndarray,
                       det_cared: np.ndarray) -> int:
    """Count the official greedy one-to-one matches.

    Args:
        candidate_pairs (np.ndarray[P, 2], int): ``(gt, det)`` index pairs whose IoU passes the
            match threshold, in row-major order (ground truth first, then detection), as
            ``np.argwhere(iou > thr)`` gives them. Visiting only these pairs in this order is the
            official double loop with the pairs that cannot match skipped.
        gt_cared (np.ndarray[G], bool): ground truths that count.
        det_cared (np.ndarray[D], bool): detections that count.

    Returns:
        int: number of matched pairs.
    """
    gt_free = gt_cared.copy()
    det_free = det_cared.copy()
    matched = 0
    for gt_id, det_id in candidate_pairs.tolist():
        if gt_free[gt_id] and det_free[det_id]:
            gt_free[gt_id] = det_free[det_id] = False
            matched += 1
    return matched


def max_matching_count(candidate_pairs: np.ndarray, gt_cared: np.ndarray,
                       det_cared: np.ndarray) -> int:
    """Size of a maximum one-to-one matching (MMOCR's ``strategy='max_matching'``).

    Not the official rule (which is :func:`greedy_match_count`): every cared pair whose IoU
    passes the threshold may match, and the largest possible number of pairs is matched.

    Args:
        candidate_pairs (np.ndarray[P, 2], int): ``(gt, det)`` index pairs whose IoU passes the
            match threshold.
        gt_cared (np.ndarray[G], bool): ground truths that count.
        det_cared (np.ndarray[D], bool): detections that count.

    Returns:
        int: number of matched pairs.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    keep = gt_cared[candidate_pairs[:, 0]] & det_cared[candidate_pairs[:, 1]]
    pairs = candidate_pairs[keep]
    if pairs.size == 0:
        return 0
    graph = csr_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
                       shape=(gt_cared.size, det_cared.size))
    matched_gt = maximum_bipartite_matching(graph, perm_type='column')
    return int(np.count_nonzero(matched_gt >= 0))


def pooled_scores(num_matched: int, num_gt: int, num_det: int) -> DetectionScores:
    """Precision, recall and hmean from counts pooled over a dataset (official formulas).

    Args:
        num_matched (int): matched pairs over all images.
        num_gt (int): cared ground truths over all images.
        num_det (int): cared detections over all images.

    Returns:
        DetectionScores.
    """
    recall = num_matched / num_gt if num_gt > 0 else 0.0
    precision = num_matched / num_det if num_det > 0 else 0.0
    total = precision + recall
    hmean = 2.0 * precision * recall / total if total > 0 else 0.0
    return DetectionScores(precision, recall, hmean, int(num_matched), int(num_gt), int(num_det))
