"""ICDAR2015 hmean: the official Robust Reading protocol as an mmengine metric."""
import logging
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmpse_ext.evaluation.functional import (AREA_RULES, dont_care_detections, greedy_match_count,
                                             intersection_over_union, max_matching_count,
                                             pooled_scores)
from mmpse_ext.registry import METRICS
from ._inputs import batch_sample_geometries, best_score_threshold, score_thresholds

#: Values of ``strategy``, MMOCR's names: ``'vanilla'`` = the official greedy matching,
#: ``'max_matching'`` = a maximum one-to-one matching.
STRATEGIES = ('vanilla', 'max_matching')


@METRICS.register_module()
class ICDAR2015HmeanMetric(BaseMetric):
    """Precision, recall and hmean as the official ICDAR2015 text-detection script gives them.

    The protocol (see :mod:`mmpse_ext.evaluation.functional.icdar2015_protocol`): a match needs
    IoU strictly above ``match_iou_thr``; a detection whose intersection with one ``###``
    ground truth covers strictly more than ``ignore_precision_thr`` of its area is don't-care;
    matching is greedy and one-to-one in ground-truth order, then detection order; don't-care
    ground truths and detections are not counted; counts are pooled over the dataset. The
    geometry is the official script's (see
    :mod:`mmpse_ext.evaluation.functional.polygon_geometry` and ``docs/evaluation.md``):
    coordinates rounded to integers as in a submission file, a polygon's area is the absolute
    shoelace sum of its vertex order, intersections are taken of even-odd regions. With the
    defaults the result equals the official script's on the same predictions written as a
    submission (as ``tools/infer.py`` writes it), self-intersecting ones included. Polygons may
    have any number of points: the same metric is MMOCR's IoU protocol for CTW1500's curved
    14-point words (see ``docs/evaluation.md``).

    Reported keys (with the prefix, ``icdar2015/`` by default):

    * ``precision``, ``recall``, ``hmean``: every prediction counts, as in the official task
      (it has no score threshold). These are the numbers to compare with published ones.
    * with ``pred_score_thrs`` also ``best_precision``, ``best_recall``, ``best_hmean`` and
      ``best_score_thr``: the threshold with the highest hmean (the lowest one on ties) among
      the sweep, keeping predictions with ``score >= thr``. That is the number MMOCR's
      ``HmeanIOUMetric`` reports as its ``hmean`` (equal on simple polygons with
      ``round_coords=False``; MMOCR's ``buffer(0)`` can drop a lobe of a self-intersecting one).

    Input, per data sample (as MMOCR's ``HmeanIOUMetric`` receives it):
        ``pred_instances.polygons`` (list[array[2 * P]]): flat polygons in original image
        coordinates; ``pred_instances.scores`` (array[N]): needed only for a sweep;
        ``gt_instances.polygons`` (list[array[2 * P]]) and ``gt_instances.ignored``
        (array[G], bool): ``True`` for ``###``.

    Invalid polygons never stop an evaluation; degenerate ones (empty region) and
    self-intersecting ones are counted and reported in one warning.

    Args:
        match_iou_thr (float): IoU a pair must exceed to match. Official: 0.5.
        ignore_precision_thr (float): share of a detection's area a don't-care ground truth must
            exceed to make the detection don't-care. Official: 0.5.
        pred_score_thrs (dict | Sequence[float] | None): optional score sweep, MMOCR's argument:
            ``dict(start=0.3, stop=0.9, step=0.1)`` is handed to ``np.arange`` exactly as MMOCR
            does (floating-point steps may include ``stop``: that one gives 0.3 .. 0.9), or a
            list of thresholds. Scores and thresholds are compared in float32, as in MMOCR.
            ``None`` (default): no sweep, MMOCR's default is the dict above.
        strategy (str): ``'vanilla'`` (default, the official greedy matching) or
            ``'max_matching'`` (a maximum one-to-one matching, as MMOCR's option). Applies to
            every reported number.
        round_coords (bool): round coordinates to the nearest integer first, as a submission
            file holds them (default: True, the official computation). False uses the
            coordinates as they are.
        area_rule (str): ``'official'`` (default: |shoelace sum| of the vertex order, as the
            official script) or ``'repaired'`` (the area of the even-odd region, which differs
            only for self-intersecting polygons; the 0-area symmetric bow-tie gets its 2 lobes).
        collect_device (str): ``'cpu'`` or ``'gpu'``, for collecting results across ranks.
        prefix (str, optional): key prefix; ``'icdar2015'`` by default, so the metric can sit
            next to MMOCR's ``HmeanIOUMetric`` (``'icdar'``) in one evaluator.
    """
    default_prefix: Optional[str] = 'icdar2015'

    def __init__(self,
                 match_iou_thr: float = 0.5,
                 ignore_precision_thr: float = 0.5,
                 pred_score_thrs: Union[Dict, Sequence[float], None] = None,
                 strategy: str = 'vanilla',
                 round_coords: bool = True,
                 area_rule: str = 'official',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        for name, value in (('match_iou_thr', match_iou_thr), ('ignore_precision_thr',
                                                               ignore_precision_thr)):
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f'{name} must lie in [0, 1], got {value}')
        if strategy not in STRATEGIES:
            raise ValueError(f'strategy must be one of {STRATEGIES}, got {strategy!r}')
        if area_rule not in AREA_RULES:
            raise ValueError(f'area_rule must be one of {AREA_RULES}, got {area_rule!r}')
        self.match_iou_thr = float(match_iou_thr)
        self.ignore_precision_thr = float(ignore_precision_thr)
        self.pred_score_thrs = score_thresholds(pred_score_thrs)
        self.strategy = strategy
        self.round_coords = bool(round_coords)
        self.area_rule = area_rule

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Reduce each sample to its match candidates; geometry runs once for the batch.

        Args:
            data_batch: unused.
            data_samples (Sequence[dict | TextDetDataSample]): see the class docstring.
        """
        batch = batch_sample_geometries(data_samples, 'ICDAR2015HmeanMetric', len(self.results),
                                        self.pred_score_thrs is not None, self.round_coords,
                                        self.area_rule)
        for ignored, scores, gt, pred, inter in batch:
            iou = intersection_over_union(inter, gt.areas, pred.areas)
            det_dont_care = dont_care_detections(inter, pred.areas, ignored,
                                                 self.ignore_precision_thr)
            self.results.append(
                dict(
                    candidate_pairs=np.argwhere(iou > self.match_iou_thr).astype(np.int32),
                    gt_cared=~ignored,
                    det_cared=~det_dont_care,
                    det_scores=scores,
                    unusual=np.array([
                        gt.degenerate.sum(),
                        pred.degenerate.sum(),
                        gt.self_intersecting.sum(),
                        pred.self_intersecting.sum()
                    ],
                                     dtype=np.int64)))

    def _scores_at(self, results: List[dict], score_thr: Optional[float]):
        count_matches = (greedy_match_count if self.strategy == 'vanilla' else max_matching_count)
        matched = num_gt = num_det = 0
        for result in results:
            det_cared = result['det_cared']
            if score_thr is not None:
                # float32 on both sides, as MMOCR compares them (numpy casts the threshold to
                # the scores' float32)
                det_cared = det_cared & (result['det_scores'] >= np.float32(score_thr))
            matched += count_matches(result['candidate_pairs'], result['gt_cared'], det_cared)
            num_gt += int(result['gt_cared'].sum())
            num_det += int(det_cared.sum())
        return pooled_scores(matched, num_gt, num_det)

    def _warn_unusual_polygons(self, results: List[dict]) -> None:
        counts = sum((r['unusual'] for r in results), np.zeros(4, dtype=np.int64))
        if not counts.any():
            return
        area = ('|shoelace sum| of the vertex order, as the official script'
                if self.area_rule == 'official' else 'area of the even-odd region')
        print_log(
            f'ICDAR2015HmeanMetric: degenerate polygons (empty region; kept in the counts, never '
            f'matched): {counts[0]} ground truths, {counts[1]} predictions; self-intersecting '
            f'polygons (overlaps by the even-odd rule, area = {area}): {counts[2]} ground '
            f'truths, {counts[3]} predictions.',
            logger='current',
            level=logging.WARNING)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Pool the per-image match candidates into the dataset's scores.

        Args:
            results (list[dict]): what :meth:`process` stored, gathered from all ranks.

        Returns:
            dict[str, float]: ``precision``, ``recall``, ``hmean`` (and ``best_*`` with a sweep).
        """
        self._warn_unusual_polygons(results)
        official = self._scores_at(results, None)
        print_log(
            f'ICDAR2015 (all predictions, {self.strategy} matching): matched '
            f'{official.num_matched}, cared gt {official.num_gt}, cared det {official.num_det}, '
            f'precision {official.precision:.4f}, recall {official.recall:.4f}, hmean '
            f'{official.hmean:.4f}',
            logger='current')
        metrics = dict(precision=official.precision, recall=official.recall, hmean=official.hmean)
        if self.pred_score_thrs is None:
            return metrics
        metrics.update(
            best_score_threshold(lambda thr: self._scores_at(results, thr), self.pred_score_thrs,
                                 'ICDAR2015'))
        return metrics
