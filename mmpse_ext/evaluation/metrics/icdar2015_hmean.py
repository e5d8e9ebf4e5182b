"""ICDAR2015 hmean: the official Robust Reading protocol as an mmengine metric."""
import logging
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmpse_ext.evaluation.functional import (PolygonGeometries, batch_intersection_areas,
                                             build_geometries, dont_care_detections,
                                             flat_polygon_points, greedy_match_count,
                                             intersection_over_union, pooled_scores)
from mmpse_ext.registry import METRICS


def _to_numpy(values, dtype) -> np.ndarray:
    if hasattr(values, 'detach'):  # torch.Tensor
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=dtype).reshape(-1)


def _score_thresholds(score_thrs) -> Optional[np.ndarray]:
    """``None``, ``dict(start, stop, step)`` or a sequence of thresholds.

    ``stop`` is included on purpose. MMOCR passes the dict to ``np.arange``, which excludes it
    in principle but keeps it for its default 0.3..0.9 through rounding (7 thresholds).
    """
    if score_thrs is None:
        return None
    if isinstance(score_thrs, dict):
        unknown = set(score_thrs) - {'start', 'stop', 'step'}
        if unknown or 'start' not in score_thrs or 'step' not in score_thrs:
            raise ValueError('score_thrs as a dict needs keys start, step (and optionally stop), '
                             f'got {sorted(score_thrs)}')
        start, step = float(score_thrs['start']), float(score_thrs['step'])
        stop = float(score_thrs.get('stop', start))
        if step <= 0 or stop < start:
            raise ValueError(f'score_thrs needs step > 0 and stop >= start, got {score_thrs}')
        num = int(np.floor((stop - start) / step + 1e-6)) + 1
        return np.round(start + step * np.arange(num), 10)
    thrs = np.asarray(score_thrs, dtype=np.float64).reshape(-1)
    if thrs.size == 0 or not np.isfinite(thrs).all():
        raise ValueError(f'score_thrs must be finite numbers, got {score_thrs}')
    return thrs


@METRICS.register_module()
class ICDAR2015HmeanMetric(BaseMetric):
    """Precision, recall and hmean under the official ICDAR2015 text-detection protocol.

    The protocol (see :mod:`mmpse_ext.evaluation.functional.icdar2015_protocol`): a match needs
    IoU strictly above ``match_iou_thr``; a detection whose intersection with one ``###``
    ground truth covers strictly more than ``ignore_precision_thr`` of its area is don't-care;
    matching is greedy and one-to-one in ground-truth order, then detection order; don't-care
    ground truths and detections are not counted; counts are pooled over the dataset.
    Every prediction counts (the official task has no score threshold); filter by score in the
    postprocessor, or sweep thresholds with ``score_thrs`` as MMOCR's ``HmeanIOUMetric`` does.

    Input, per data sample (as MMOCR's ``HmeanIOUMetric`` receives it):
        ``pred_instances.polygons`` (list[array[2 * P]]): flat polygons in original image
        coordinates; ``pred_instances.scores`` (array[N]): needed only for a sweep;
        ``gt_instances.polygons`` (list[array[2 * P]]) and ``gt_instances.ignored``
        (array[G], bool): ``True`` for ``###``.

    Invalid polygons never stop an evaluation: degenerate ones (fewer than 3 points,
    non-finite, zero area) stay in the counts but match nothing, self-intersecting ones are
    repaired with ``shapely.make_valid``; both are counted and reported as a warning. See
    :mod:`mmpse_ext.evaluation.functional.polygon_geometry`.

    Args:
        match_iou_thr (float): IoU a pair must exceed to match. Official: 0.5.
        ignore_precision_thr (float): share of a detection's area a don't-care ground truth must
            exceed to make the detection don't-care. Official: 0.5.
        score_thrs (dict | Sequence[float] | None): optional sweep, as MMOCR's
            ``pred_score_thrs``: ``dict(start=0.3, stop=0.9, step=0.1)`` (stop included) or a
            list. For each
            threshold only predictions with ``score >= thr`` are evaluated, and the best one
            (highest hmean, the lowest threshold on ties) is reported as ``best_*`` next to the
            official numbers.
        round_coords (bool): round all coordinates to integers first, as in an ICDAR submission
            file (the official parser accepts integers only). Default: use them as they are.
        collect_device (str): ``'cpu'`` or ``'gpu'``, for collecting results across ranks.
        prefix (str, optional): key prefix; ``'icdar'`` by default.

    Returns (from ``evaluate``): ``icdar/precision``, ``icdar/recall``, ``icdar/hmean`` and, with
    a sweep, ``icdar/best_score_thr``, ``icdar/best_precision``, ``icdar/best_recall``,
    ``icdar/best_hmean``.
    """
    default_prefix: Optional[str] = 'icdar'

    def __init__(self,
                 match_iou_thr: float = 0.5,
                 ignore_precision_thr: float = 0.5,
                 score_thrs: Union[Dict, Sequence[float], None] = None,
                 round_coords: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        for name, value in (('match_iou_thr', match_iou_thr),
                            ('ignore_precision_thr', ignore_precision_thr)):
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f'{name} must lie in [0, 1], got {value}')
        self.match_iou_thr = float(match_iou_thr)
        self.ignore_precision_thr = float(ignore_precision_thr)
        self.score_thrs = _score_thresholds(score_thrs)
        self.round_coords = bool(round_coords)

    def _read_sample(self, data_sample, where: str):
        """Flat polygons, ignore flags and scores of one sample, checked."""
        pred, gt = data_sample.get('pred_instances'), data_sample.get('gt_instances')
        if pred is None or gt is None:
            raise ValueError(f'{where}: needs pred_instances and gt_instances')
        pred_polygons = pred.get('polygons')
        gt_polygons = gt.get('polygons')
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
        ignored = (np.zeros(len(gt_points), dtype=bool)
                   if ignored is None else _to_numpy(ignored, bool))
        if ignored.size != len(gt_points):
            raise ValueError(f'{where}: gt_instances.ignored has {ignored.size} flags for '
                             f'{len(gt_points)} polygons')
        scores = pred.get('scores')
        if scores is None:
            if self.score_thrs is not None:
                raise ValueError(f'{where}: pred_instances.scores needed for score_thrs')
        else:
            scores = _to_numpy(scores, np.float64)
            if scores.size != len(pred_points):
                raise ValueError(f'{where}: pred_instances.scores has {scores.size} values for '
                                 f'{len(pred_points)} polygons')
        return pred_points, gt_points, ignored, scores

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Reduce each sample to its match candidates; geometry runs once for the batch.

        Args:
            data_batch: unused.
            data_samples (Sequence[dict | TextDetDataSample]): see the class docstring.
        """
        samples = []
        for i, data_sample in enumerate(data_samples):
            # results so far + position in this batch = index of the sample on this rank
            where = data_sample.get('img_path') or f'data sample #{len(self.results) + i}'
            samples.append(self._read_sample(data_sample, f'ICDAR2015HmeanMetric: {where}'))
        if not samples:
            return
        # Build every polygon of the batch in one call, then split per image and kind.
        all_points = [p for pred, gt, _, _ in samples for p in (*pred, *gt)]
        geometries = build_geometries(all_points, round_coords=self.round_coords)
        pred_geoms: List[PolygonGeometries] = []
        gt_geoms: List[PolygonGeometries] = []
        start = 0
        for pred, gt, _, _ in samples:
            for count, out in ((len(pred), pred_geoms), (len(gt), gt_geoms)):
                out.append(PolygonGeometries(*(field[start:start + count] for field in geometries)))
                start += count
        intersections = batch_intersection_areas(gt_geoms, pred_geoms)
        for (_, _, ignored, scores), gt, pred, inter in zip(samples, gt_geoms, pred_geoms,
                                                            intersections):
            iou = intersection_over_union(inter, gt.areas, pred.areas)
            det_dont_care = dont_care_detections(inter, pred.areas, ignored,
                                                 self.ignore_precision_thr)
            self.results.append(
                dict(
                    candidate_pairs=np.argwhere(iou > self.match_iou_thr).astype(np.int32),
                    gt_cared=~ignored,
                    det_cared=~det_dont_care,
                    det_scores=scores,
                    invalid=np.array([
                        gt.degenerate.sum(), pred.degenerate.sum(),
                        gt.repaired.sum(), pred.repaired.sum()
                    ], dtype=np.int64)))

    @staticmethod
    def _scores_at(results: List[dict], score_thr: Optional[float]):
        matched = num_gt = num_det = 0
        for result in results:
            det_cared = result['det_cared']
            if score_thr is not None:
                det_cared = det_cared & (result['det_scores'] >= score_thr)
            matched += greedy_match_count(result['candidate_pairs'], result['gt_cared'], det_cared)
            num_gt += int(result['gt_cared'].sum())
            num_det += int(det_cared.sum())
        return pooled_scores(matched, num_gt, num_det)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Pool the per-image match candidates into the dataset's scores.

        Args:
            results (list[dict]): what :meth:`process` stored, gathered from all ranks.

        Returns:
            dict[str, float]: ``precision``, ``recall``, ``hmean`` (and ``best_*`` with a sweep).
        """
        invalid = sum((r['invalid'] for r in results), np.zeros(4, dtype=np.int64))
        if invalid.any():
            print_log(
                f'ICDAR2015HmeanMetric: degenerate polygons (< 3 points, non-finite or zero area; '
                f'kept in the counts, never matched): {invalid[0]} ground truths, {invalid[1]} '
                f'predictions; self-intersecting polygons repaired with shapely.make_valid: '
                f'{invalid[2]} ground truths, {invalid[3]} predictions.',
                logger='current', level=logging.WARNING)
        official = self._scores_at(results, None)
        print_log(
            f'ICDAR2015 (official protocol, all predictions): matched {official.num_matched}, '
            f'cared gt {official.num_gt}, cared det {official.num_det}, precision '
            f'{official.precision:.4f}, recall {official.recall:.4f}, hmean {official.hmean:.4f}',
            logger='current')
        metrics = dict(
            precision=official.precision, recall=official.recall, hmean=official.hmean)
        if self.score_thrs is None:
            return metrics
        best_thr, best = None, None
        for thr in self.score_thrs:
            swept = self._scores_at(results, float(thr))
            print_log(
                f'ICDAR2015 score >= {thr:.4g}: precision {swept.precision:.4f}, recall '
                f'{swept.recall:.4f}, hmean {swept.hmean:.4f}', logger='current')
            if best is None or swept.hmean > best.hmean:
                best_thr, best = float(thr), swept
        metrics.update(
            best_score_thr=best_thr,
            best_precision=best.precision,
            best_recall=best.recall,
            best_hmean=best.hmean)
        return metrics
