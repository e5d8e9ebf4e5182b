"""What the text-detection metrics read: a data sample's polygons, flags and scores, checked,
and MMOCR's ``pred_score_thrs`` argument."""
from typing import List, Optional, Tuple

import numpy as np
from mmengine.logging import print_log

from mmpse_ext.evaluation.functional import (PolygonGeometries, batch_intersection_areas,
                                             build_geometries, flat_polygon_points)


def to_numpy(values, dtype) -> np.ndarray:
    """A flat array of ``values`` (list, np.ndarray or torch.Tensor) in ``dtype``."""
    if hasattr(values, 'detach'):  # torch.Tensor
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=dtype).reshape(-1)


def score_thresholds(pred_score_thrs) -> Optional[np.ndarray]:
    """``None``, MMOCR's ``dict(start, stop, step)`` (given to ``np.arange``) or a sequence."""
    if pred_score_thrs is None:
        return None
    if isinstance(pred_score_thrs, dict):
        if set(pred_score_thrs) != {'start', 'stop', 'step'}:
            raise ValueError('pred_score_thrs as a dict needs exactly the keys start, stop, step '
                             f'(np.arange, as MMOCR), got {sorted(pred_score_thrs)}')
        thrs = np.arange(**pred_score_thrs, dtype=np.float64)
    else:
        thrs = np.asarray(pred_score_thrs, dtype=np.float64).reshape(-1)
    if thrs.size == 0 or not np.isfinite(thrs).all():
        raise ValueError(f'pred_score_thrs must give at least one finite threshold, got '
                         f'{pred_score_thrs}')
    return thrs


def read_polygon_sample(
    data_sample, where: str, need_scores: bool
) -> Tuple[List[np.ndarray], List[np.ndarray], np.ndarray, Optional[np.ndarray]]:
    """Predicted and ground-truth polygons, ignore flags and scores of one data sample, checked.

    Args:
        data_sample (dict | TextDetDataSample): with ``pred_instances.polygons`` (and
            ``scores``), ``gt_instances.polygons`` and ``gt_instances.ignored`` (optional: none
            ignored).
        where (str): names the sample in error messages.
        need_scores (bool): raise if ``pred_instances.scores`` is missing.

    Returns:
        tuple: prediction points (list[np.ndarray[P, 2]]), ground-truth points, ignore flags
        (np.ndarray[G], bool), scores (np.ndarray[N], float32, or None).
    """
    pred, gt = data_sample.get('pred_instances'), data_sample.get('gt_instances')
    if pred is None or gt is None:
        raise ValueError(f'{where}: needs pred_instances and gt_instances')
    pred_polygons, gt_polygons = pred.get('polygons'), gt.get('polygons')
    if pred_polygons is None or gt_polygons is None:
        raise ValueError(f'{where}: pred_instances.polygons and gt_instances.polygons needed')
    pred_points = [
        flat_polygon_points(p, f'{where} pred_instances.polygons[{i}]')
        for i, p in enumerate(pred_polygons)
    ]
    gt_points = [
        flat_polygon_points(p, f'{where} gt_instances.polygons[{i}]')
        for i, p in enumerate(gt_polygons)
    ]
    ignored = gt.get('ignored')
    ignored = (np.zeros(len(gt_points), dtype=bool) if ignored is None else to_numpy(ignored, bool))
    if ignored.size != len(gt_points):
        raise ValueError(f'{where}: gt_instances.ignored has {ignored.size} flags for '
                         f'{len(gt_points)} polygons')
    scores = pred.get('scores')
    if scores is None:
        if need_scores:
            raise ValueError(f'{where}: pred_instances.scores needed for pred_score_thrs')
    else:
        scores = to_numpy(scores, np.float32)
        if scores.size != len(pred_points):
            raise ValueError(f'{where}: pred_instances.scores has {scores.size} values for '
                             f'{len(pred_points)} polygons')
    return pred_points, gt_points, ignored, scores


def batch_sample_geometries(data_samples, metric_name: str, first_index: int, need_scores: bool,
                            round_coords: bool, area_rule: str) -> list:
    """Read a batch of data samples and build their polygons and intersections in one call.

    Args:
        data_samples (Sequence[dict | TextDetDataSample]): the batch.
        metric_name (str): names the metric in error messages.
        first_index (int): index of the batch's first sample on this rank (results so far),
            for samples without ``img_path``.
        need_scores (bool): scores are required (a score sweep).
        round_coords (bool), area_rule (str): the metric's geometry options.

    Returns:
        list[tuple]: per sample ``(ignored, scores, gt, pred, intersections)``: ignore flags,
        scores (or None), :class:`PolygonGeometries` of the ground truths and predictions, and
        their ``[G, N]`` intersection areas.
    """
    samples = []
    for i, data_sample in enumerate(data_samples):
        where = data_sample.get('img_path') or f'data sample #{first_index + i}'
        samples.append(read_polygon_sample(data_sample, f'{metric_name}: {where}', need_scores))
    if not samples:
        return []
    # Build every polygon of the batch in one call, then split per image and kind.
    all_points = [p for pred, gt, _, _ in samples for p in (*pred, *gt)]
    geometries = build_geometries(all_points, round_coords, area_rule)
    pred_geoms: List[PolygonGeometries] = []
    gt_geoms: List[PolygonGeometries] = []
    start = 0
    for pred, gt, _, _ in samples:
        for count, out in ((len(pred), pred_geoms), (len(gt), gt_geoms)):
            out.append(PolygonGeometries(*(field[start:start + count] for field in geometries)))
            start += count
    intersections = batch_intersection_areas(gt_geoms, pred_geoms)
    return [(ignored, scores, gt, pred, inter)
            for (_, _, ignored,
                 scores), gt, pred, inter in zip(samples, gt_geoms, pred_geoms, intersections)]


def best_score_threshold(scores_at, thresholds: np.ndarray, label: str) -> dict:
    """MMOCR's score sweep: the scores at each threshold (logged), and the best by hmean.

    Args:
        scores_at (Callable[[float], scores]): the metric's scores keeping the predictions
            scored >= a threshold (with ``precision``, ``recall``, ``hmean``).
        thresholds (np.ndarray): from :func:`score_thresholds`.
        label (str): starts each log line (the protocol's name).

    Returns:
        dict: ``best_score_thr``, ``best_precision``, ``best_recall``, ``best_hmean`` (the first
        threshold of the highest hmean).
    """
    best_thr, best = None, None
    for thr in thresholds:
        swept = scores_at(float(thr))
        print_log(
            f'{label} score >= {thr:.4g}: precision {swept.precision:.4f}, recall '
            f'{swept.recall:.4f}, hmean {swept.hmean:.4f}',
            logger='current')
        if best is None or swept.hmean > best.hmean:
            best_thr, best = float(thr), swept
    return dict(
        best_score_thr=best_thr,
        best_precision=best.precision,
        best_recall=best.recall,
        best_hmean=best.hmean)
