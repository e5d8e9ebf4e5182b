"""Total-Text DetEval: the official Total-Text detection protocol as an mmengine metric."""
import logging
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmpse_ext.evaluation.functional import (AREA_RULES, OFFICIAL_FSC_K, OFFICIAL_K, OFFICIAL_TP,
                                             OFFICIAL_TR, DetEvalMatches, coverage_tables,
                                             deteval_matches, deteval_scores, dont_care_detections)
from mmpse_ext.registry import METRICS
from ._inputs import batch_sample_geometries, best_score_threshold, score_thresholds


@METRICS.register_module()
class TotalTextDetEvalMetric(BaseMetric):
    """Precision, recall and hmean as Total-Text's official DetEval script gives them.

    The protocol (see :mod:`mmpse_ext.evaluation.functional.deteval_protocol` and
    ``docs/evaluation.md``): detections mostly (> ``ignore_precision_thr`` of their area) inside
    one don't-care ground truth are removed; ground truths and detections are matched
    one-to-one, one-to-many (a word split into several detections) and many-to-one (several
    words in one detection) by their coverage ``sigma = inter / area(gt)`` and
    ``tau = inter / area(det)`` against ``tr`` and ``tp``; split and merged matches earn
    ``fsc_k`` per partner; credits are pooled over the dataset. The geometry is the official
    script's (Polygon3: area = absolute shoelace sum, intersections of even-odd regions; see
    :mod:`mmpse_ext.evaluation.functional.polygon_geometry`), on integer coordinates by default
    as a submission file holds them. With the defaults the result equals the official script's
    on the same predictions written as a submission.

    Reported keys (with the prefix, ``totaltext_deteval/`` by default): ``precision``,
    ``recall``, ``hmean`` over every prediction (the numbers to compare with published ones);
    with ``pred_score_thrs`` also ``best_precision``, ``best_recall``, ``best_hmean`` and
    ``best_score_thr`` (the highest hmean of the sweep, the lowest threshold on ties; kept are
    predictions with ``score >= thr``, as in MMOCR's ``HmeanIOUMetric``).

    Input, per data sample (as MMOCR's ``HmeanIOUMetric`` receives it):
        ``pred_instances.polygons`` (list[array[2 * P]]): flat polygons in original image
        coordinates; ``pred_instances.scores`` (array[N]): needed only for a sweep;
        ``gt_instances.polygons`` (list[array[2 * P]]) and ``gt_instances.ignored``
        (array[G], bool): ``True`` for don't-care (``#`` in Total-Text).

    Args:
        tr (float): the sigma threshold (official 0.7).
        tp (float): the tau threshold, also the sigma a merge candidate needs (official 0.6).
        fsc_k (float): credit per ground truth or detection of a split or merge (official 0.8).
        k (int): overlapping partners a split or merge needs (official 2).
        ignore_precision_thr (float): share of a detection's area inside one don't-care ground
            truth beyond which it is removed (official 0.5).
        pred_score_thrs (dict | Sequence[float] | None): optional score sweep, MMOCR's argument
            (a dict goes to ``np.arange``). Default ``None``: no sweep.
        round_coords (bool): round coordinates to the nearest integer first, as a submission
            file holds them (default True).
        area_rule (str): ``'official'`` (|shoelace sum|, default) or ``'repaired'`` (area of the
            even-odd region; differs only for self-intersecting polygons).
        collect_device (str): ``'cpu'`` or ``'gpu'``, for collecting results across ranks.
        prefix (str, optional): key prefix; ``'totaltext_deteval'`` by default, so the metric can
            sit next to MMOCR's ``HmeanIOUMetric`` and ``ICDAR2015HmeanMetric`` in one
            evaluator.
    """
    default_prefix: Optional[str] = 'totaltext_deteval'

    def __init__(self,
                 tr: float = OFFICIAL_TR,
                 tp: float = OFFICIAL_TP,
                 fsc_k: float = OFFICIAL_FSC_K,
                 k: int = OFFICIAL_K,
                 ignore_precision_thr: float = 0.5,
                 pred_score_thrs: Union[Dict, Sequence[float], None] = None,
                 round_coords: bool = True,
                 area_rule: str = 'official',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        for name, value in (('tr', tr), ('tp', tp), ('fsc_k', fsc_k), ('ignore_precision_thr',
                                                                       ignore_precision_thr)):
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f'TotalTextDetEvalMetric: {name} must lie in [0, 1], got {value}')
        if int(k) != k or k < 1:
            raise ValueError(f'TotalTextDetEvalMetric: k must be an integer >= 1, got {k}')
        if area_rule not in AREA_RULES:
            raise ValueError(f'TotalTextDetEvalMetric: area_rule must be one of {AREA_RULES}, '
                             f'got {area_rule!r}')
        self.tr, self.tp, self.fsc_k, self.k = float(tr), float(tp), float(fsc_k), int(k)
        self.ignore_precision_thr = float(ignore_precision_thr)
        self.pred_score_thrs = score_thresholds(pred_score_thrs)
        self.round_coords = bool(round_coords)
        self.area_rule = area_rule

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Reduce each sample to its sigma and tau tables; geometry runs once for the batch.

        Args:
            data_batch: unused.
            data_samples (Sequence[dict | TextDetDataSample]): see the class docstring.
        """
        batch = batch_sample_geometries(data_samples, 'TotalTextDetEvalMetric', len(self.results),
                                        self.pred_score_thrs is not None, self.round_coords,
                                        self.area_rule)
        for ignored, scores, gt, pred, inter in batch:
            removed = dont_care_detections(inter, pred.areas, ignored, self.ignore_precision_thr)
            sigma, tau = coverage_tables(inter[~ignored], gt.areas[~ignored], pred.areas)
            self.results.append(
                dict(
                    sigma=sigma,
                    tau=tau,
                    det_kept=~removed,
                    det_scores=scores,
                    unusual=np.array([
                        gt.degenerate.sum(),
                        pred.degenerate.sum(),
                        gt.self_intersecting.sum(),
                        pred.self_intersecting.sum()
                    ],
                                     dtype=np.int64)))

    def _scores_at(self, results: List[dict], score_thr: Optional[float]):
        matches, num_gt, num_det = DetEvalMatches(), 0, 0
        for result in results:
            keep = result['det_kept']
            if score_thr is not None:
                keep = keep & (result['det_scores'] >= np.float32(score_thr))
            matches += deteval_matches(result['sigma'][:, keep], result['tau'][:, keep], self.tr,
                                       self.tp, self.k)
            num_gt += result['sigma'].shape[0]
            num_det += int(keep.sum())
        return deteval_scores(matches, num_gt, num_det, self.fsc_k)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Pool the per-image tables into the dataset's scores.

        Args:
            results (list[dict]): what :meth:`process` stored, gathered from all ranks.

        Returns:
            dict[str, float]: ``precision``, ``recall``, ``hmean`` (and ``best_*`` with a sweep).
        """
        counts = sum((r['unusual'] for r in results), np.zeros(4, dtype=np.int64))
        if counts.any():
            print_log(
                f'TotalTextDetEvalMetric: degenerate polygons (empty region; kept '
                f'in the counts, never matched): {counts[0]} ground truths, {counts[1]} '
                f'predictions; self-intersecting polygons (even-odd regions): {counts[2]} ground '
                f'truths, {counts[3]} predictions.',
                logger='current',
                level=logging.WARNING)
        official = self._scores_at(results, None)
        m = official.matches
        print_log(
            f'Total-Text DetEval (all predictions): one-to-one {m.one_to_one}, split words '
            f'{m.split_gts} ({m.split_dets} detections), merged words {m.merged_gts} '
            f'({m.merged_dets} detections); cared gt {official.num_gt}, det {official.num_det}; '
            f'precision {official.precision:.4f}, recall {official.recall:.4f}, hmean '
            f'{official.hmean:.4f}',
            logger='current')
        metrics = dict(precision=official.precision, recall=official.recall, hmean=official.hmean)
        if self.pred_score_thrs is None:
            return metrics
        metrics.update(
            best_score_threshold(lambda thr: self._scores_at(results, thr), self.pred_score_thrs,
                                 'Total-Text DetEval'))
        return metrics
