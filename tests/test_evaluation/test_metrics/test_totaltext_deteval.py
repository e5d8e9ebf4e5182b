"""TotalTextDetEvalMetric: hand-computed cases, and the official DetEval computation on
Total-Text-like submissions (split words, merged words, jitter, don't-care hits, false
positives)."""
import deteval_official_reference as dref
import icdar2015_official_reference as iref
import numpy as np
import pytest
import shapely
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

from mmpse_ext.evaluation.metrics import TotalTextDetEvalMetric

LOG = 'mmpse_ext.evaluation.metrics.totaltext_deteval.print_log'


def rect(x0, y0, x1, y1):
    """A flat axis-aligned box, clockwise in image coordinates."""
    return np.array([x0, y0, x1, y0, x1, y1, x0, y1], dtype=np.float32)


def sample(gts=(), preds=(), ignored=None, scores=None):
    ignored = [False] * len(gts) if ignored is None else ignored
    scores = [1.0] * len(preds) if scores is None else scores
    return dict(
        gt_instances=dict(
            polygons=[np.asarray(p, np.float32) for p in gts],
            ignored=torch.tensor(ignored, dtype=torch.bool).reshape(-1)),
        pred_instances=dict(
            polygons=[np.asarray(p, np.float32) for p in preds],
            scores=torch.tensor(scores, dtype=torch.float32).reshape(-1)))


def evaluate(samples, **kwargs):
    metric = TotalTextDetEvalMetric(**kwargs)
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def assert_scores(result, precision, recall):
    hmean = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    assert result['precision'] == pytest.approx(precision)
    assert result['recall'] == pytest.approx(recall)
    assert result['hmean'] == pytest.approx(hmean)


WORD = rect(0, 0, 100, 20)  # area 2000


def test_one_to_one():
    # det [5,100]x[0,20]: inter 1900, sigma 0.95, tau 1
    assert_scores(evaluate([sample([WORD], [rect(5, 0, 100, 20)])]), 1.0, 1.0)


def test_split_word_earns_fsc_k():
    # pieces [0,45] (sigma 0.45) and [50,100] (0.5), tau 1 each: sum 0.95 >= 0.7.
    # recall 0.8 / 1, precision 2 * 0.8 / 2 dets.
    assert_scores(evaluate([sample([WORD], [rect(0, 0, 45, 20), rect(50, 0, 100, 20)])]), 0.8, 0.8)
    # pieces [0,30] and [40,70]: 0.3 + 0.3 < 0.7 -> nothing found, 2 false positives
    assert_scores(evaluate([sample([WORD], [rect(0, 0, 30, 20), rect(40, 0, 70, 20)])]), 0.0, 0.0)


def test_merged_words_earn_fsc_k():
    # words [0,40] (800) and [50,100] (1000) in one det [0,100] (2000): sigma 1, 1; tau 0.4,
    # 0.5 (sum 0.9 >= 0.6). recall 2 * 0.8 / 2, precision 0.8 / 1.
    gts = [rect(0, 0, 40, 20), rect(50, 0, 100, 20)]
    assert_scores(evaluate([sample(gts, [WORD])]), 0.8, 0.8)


def test_a_duplicate_detection_makes_a_split_not_a_false_positive():
    # two exact copies: 2 dets with sigma > 0.7 -> pass 2 splits: recall 0.8, precision 1.6 / 2
    assert_scores(evaluate([sample([WORD], [WORD, WORD])]), 0.8, 0.8)


def test_sigma_exactly_tr_is_not_one_to_one():
    # det [0,70]: sigma 1400 / 2000 = 0.7, not > 0.7; one overlap only -> no other pass applies
    assert_scores(evaluate([sample([WORD], [rect(0, 0, 70, 20)])]), 0.0, 0.0)
    assert_scores(evaluate([sample([WORD], [rect(0, 0, 71, 20)])]), 1.0, 1.0)


def test_the_sigma_and_the_tau_detection_of_pass_one_may_differ():
    # detA [0,100]x[0,40] covers the word (sigma 1) but tau 0.5; detB [40,50]x[0,10] lies on
    # it (tau 1, sigma 0.05). One of each -> one-to-one; detB stays a false positive.
    preds = [rect(0, 0, 100, 40), rect(40, 0, 50, 10)]
    assert_scores(evaluate([sample([WORD], preds)]), 0.5, 1.0)


def test_tau_exactly_tp_makes_a_one_to_one_in_the_merge_pass():
    # gt0 [0,90] (1800), gt1 [140,300] (3200), det [0,150] (3000): gt0 sigma 1, tau 0.6
    # exactly (fails pass 1's > tp); det also touches gt1 (inter 200, tau 0.067), so pass 3
    # looks at it: one candidate (gt1 sigma 0.0625 < 0.6) with tau >= 0.6, sigma >= 0.7.
    gts = [rect(0, 0, 90, 20), rect(140, 0, 300, 20)]
    assert_scores(evaluate([sample(gts, [rect(0, 0, 150, 20)])]), 1.0, 0.5)


def test_detections_more_than_half_inside_dont_care_regions_are_dropped():
    # '#' word [200,300]; det [210,290] lies inside (share 1) -> dropped; det [250,350] is
    # half inside (0.5, not > 0.5) -> a false positive. The cared word is found.
    gts = [WORD, rect(200, 0, 300, 20)]
    preds = [WORD, rect(210, 0, 290, 20), rect(250, 0, 350, 20)]
    assert_scores(evaluate([sample(gts, preds, ignored=[False, True])]), 0.5, 1.0)
    # the don't-care threshold is an argument
    assert_scores(
        evaluate([sample(gts, preds, ignored=[False, True])], ignore_precision_thr=0.4), 1.0, 1.0)


def test_credits_are_pooled_over_images():
    # image 1: split (recall 0.8, precision 1.6 for 2 dets); image 2: one word missed, one found
    # with a false positive. Pooled: recall (0.8 + 1) / 3, precision (1.6 + 1) / 4.
    images = [
        sample([WORD], [rect(0, 0, 45, 20), rect(50, 0, 100, 20)]),
        sample([WORD, rect(0, 50, 100, 70)], [WORD, rect(300, 0, 310, 10)]),
    ]
    assert_scores(evaluate(images), 2.6 / 4, 1.8 / 3)
    metric = TotalTextDetEvalMetric()
    metric.process({}, images[:1])
    metric.process({}, images[1:])
    assert metric.compute_metrics(metric.results) == evaluate(images)


def test_empty_sets():
    assert_scores(evaluate([sample()]), 0.0, 0.0)
    assert_scores(evaluate([sample([WORD], [])]), 0.0, 0.0)
    assert_scores(evaluate([sample([], [WORD])]), 0.0, 0.0)


def test_degenerate_polygons_are_counted_never_matched_and_reported():
    flat_line = np.array([0, 0, 50, 0, 100, 0], np.float32)
    with pytest.MonkeyPatch.context() as patch:
        logged = []
        patch.setattr(LOG, lambda msg, **kw: logged.append(msg))
        result = evaluate([sample([WORD, flat_line], [WORD, flat_line])])
    assert_scores(result, 0.5, 0.5)
    assert any('degenerate' in m and '1 ground truths, 1 predictions' in m for m in logged)


def test_score_sweep_keeps_the_official_numbers_and_adds_the_best():
    # the split pieces scored 0.4 and 0.9: at 0.5 one piece is left (sigma 0.5 alone: nothing)
    images = [
        sample([WORD, rect(0, 50, 100, 70)],
               [rect(0, 0, 45, 20), rect(50, 0, 100, 20),
                rect(0, 50, 100, 70)],
               scores=[0.4, 0.9, 0.8])
    ]
    result = evaluate(images, pred_score_thrs=[0.3, 0.5])
    assert_scores(result, 2.6 / 3, 1.8 / 2)  # all predictions
    assert result['best_score_thr'] == 0.3
    assert result['best_hmean'] == pytest.approx(result['hmean'])
    only_high = evaluate(images, pred_score_thrs=[0.5])
    assert only_high['best_precision'] == pytest.approx(1 / 2)
    assert only_high['best_recall'] == pytest.approx(1 / 2)
    with pytest.raises(ValueError, match='scores needed for pred_score_thrs'):
        evaluate([dict(gt_instances=dict(polygons=[WORD]), pred_instances=dict(polygons=[WORD]))],
                 pred_score_thrs=[0.5])


@pytest.mark.parametrize('kwargs, match', [(dict(tr=1.5), 'tr must lie in'),
                                           (dict(tp=-0.1), 'tp must lie in'),
                                           (dict(k=0), 'k must be an integer'),
                                           (dict(area_rule='x'), 'area_rule must be one of')])
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TotalTextDetEvalMetric(**kwargs)


def test_bad_samples_name_the_image_and_the_polygon():
    bad = sample([WORD], [[1, 2, 3]])
    bad['img_path'] = 'img7.jpg'
    with pytest.raises(ValueError, match=r'img7.jpg pred_instances.polygons\[0\]'):
        evaluate([bad])
    flags = sample([WORD], [], ignored=[False, True])
    with pytest.raises(ValueError, match='data sample #0.*2 flags for 1 polygons'):
        evaluate([flags])


def test_registry_build_and_one_evaluator_with_mmocrs_and_the_icdar2015_metric():
    from mmengine.registry import init_default_scope
    from mmocr.evaluation import HmeanIOUMetric
    from mmocr.registry import METRICS
    from mmocr.structures import TextDetDataSample

    from mmpse_ext.evaluation import ICDAR2015HmeanMetric
    from mmpse_ext.evaluation import TotalTextDetEvalMetric as exported
    assert exported is TotalTextDetEvalMetric
    init_default_scope('mmocr')
    ours = METRICS.build(dict(type='mmpse_ext.TotalTextDetEvalMetric'))
    assert isinstance(ours, TotalTextDetEvalMetric)
    # a split word: DetEval credits it (0.8 / 0.8); IoU protocols find neither piece.
    data_sample = TextDetDataSample(metainfo=dict(img_path='a.jpg'))
    data_sample.gt_instances = InstanceData(polygons=[WORD], ignored=np.array([False]))
    data_sample.pred_instances = InstanceData(
        polygons=[rect(0, 0, 45, 20), rect(50, 0, 100, 20)], scores=torch.tensor([0.9, 0.9]))
    evaluator = Evaluator([ours, ICDAR2015HmeanMetric(), HmeanIOUMetric()])
    evaluator.process([data_sample])
    result = evaluator.evaluate(1)
    assert result['totaltext_deteval/precision'] == pytest.approx(0.8)
    assert result['totaltext_deteval/recall'] == pytest.approx(0.8)
    assert result['totaltext_deteval/hmean'] == pytest.approx(0.8)
    assert result['icdar2015/hmean'] == 0.0 and result['icdar/hmean'] == 0.0


# ---------------------------------------------------------------------------------------------
# The official computation (deteval_official_reference.py) on Total-Text-like submissions.


def _assert_same_scores(result, reference):
    for key in ('precision', 'recall', 'hmean'):
        assert result[key] == pytest.approx(reference[key], abs=1e-6), key


def _thresholded(images, samples, thr):
    """The reference's images keeping only the detections scored >= thr (same order)."""
    out = []
    for (gt_rows, det_lines), s in zip(images, samples):
        keep = np.asarray(s['pred_instances']['scores'], np.float32) >= np.float32(thr)
        out.append((gt_rows, [line for line, k in zip(det_lines, keep) if k]))
    return out


def test_equals_the_official_script_with_polygon3_on_curved_and_grid_submissions():
    pytest.importorskip(
        'Polygon',
        reason="Polygon3 (the official script's geometry) is not "
        'installed: pip install Polygon3')
    totals = dict(one_to_one=0, split=0, merge=0, filtered=0)
    submissions = [dref.make_curved_submission(seed, num_images=40) for seed in (0, 1, 2)]
    # boxes on a 10 px grid, where sigma and tau hit the thresholds exactly
    submissions += [dref.make_grid_submission(seed, num_images=40) for seed in (0, 1, 2)]
    for seed, (images, samples) in enumerate(submissions):
        official = dref.official_deteval(images, iref.Polygon3Geometry)
        for key in totals:
            totals[key] += official[key]
        _assert_same_scores(evaluate(samples), official)
        if seed == 0:
            thrs = [0.4, 0.7]
            swept = [
                dref.official_deteval(_thresholded(images, samples, t), iref.Polygon3Geometry)
                for t in thrs
            ]
            best = int(np.argmax([r['hmean'] for r in swept]))
            result = evaluate(samples, pred_score_thrs=thrs)
            assert result['best_score_thr'] == thrs[best]
            for key in ('precision', 'recall', 'hmean'):
                assert result[f'best_{key}'] == pytest.approx(swept[best][key], abs=1e-6)
    # the submissions hold every case the protocol distinguishes
    assert totals['one_to_one'] > 200 and totals['split'] > 100 and totals['merge'] > 30
    assert totals['filtered'] > 50


def test_equals_the_official_script_with_polygon3_on_pixel_contours():
    """Detections shaped as PSENet's poly output: pixel contours of hundreds of points, some
    touching themselves (not simple: the even-odd geometry decides)."""
    pytest.importorskip('Polygon')
    images, samples = dref.make_contour_submission(0, num_images=30)
    not_simple = sum(not shapely.Polygon(np.reshape(p, (-1, 2))).is_valid for s in samples
                     for p in s['pred_instances']['polygons'])
    official = dref.official_deteval(images, iref.Polygon3Geometry)
    assert not_simple > 10 and official['one_to_one'] > 100 and official['split'] > 10
    _assert_same_scores(evaluate(samples), official)


def test_the_official_computation_with_exact_geometry_agrees_on_a_few_images():
    """The Polygon3 reference, checked on its own geometry by exact rational arithmetic."""
    pytest.importorskip('Polygon')
    images, _ = dref.make_curved_submission(5, num_images=3)
    exact = dref.official_deteval(images, iref.ExactGeometry)
    official = dref.official_deteval(images, iref.Polygon3Geometry)
    assert exact['num_det'] > 5
    for key in ('precision', 'recall', 'hmean'):
        assert exact[key] == pytest.approx(official[key], abs=1e-9)
