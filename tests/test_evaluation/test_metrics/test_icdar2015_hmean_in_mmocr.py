"""ICDAR2015HmeanMetric in MMOCR's machinery: built from the registry under MMOCR's scope, fed
DataSample objects by mmengine's Evaluator, next to MMOCR's own HmeanIOUMetric."""
import numpy as np
import pytest
import torch
from hmean_samples import rect, sample
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

from mmpse_ext.evaluation.metrics import ICDAR2015HmeanMetric


def test_package_level_import_and_registry_build_through_mmocr_scope():
    from mmengine.registry import init_default_scope
    from mmocr.registry import METRICS
    from mmocr.structures import TextDetDataSample

    from mmpse_ext.evaluation import ICDAR2015HmeanMetric as exported
    assert exported is ICDAR2015HmeanMetric

    init_default_scope('mmocr')
    metric = METRICS.build(dict(type='mmpse_ext.ICDAR2015HmeanMetric', pred_score_thrs=[0.5]))
    assert isinstance(metric, ICDAR2015HmeanMetric)
    data_sample = TextDetDataSample(metainfo=dict(img_path='a.jpg'))
    data_sample.gt_instances = InstanceData(
        polygons=[rect(0, 0, 10, 10), rect(20, 0, 30, 10)], ignored=np.array([False, True]))
    data_sample.pred_instances = InstanceData(
        polygons=[rect(0, 0, 10, 10), rect(20, 0, 30, 10)], scores=torch.tensor([0.9, 0.8]))
    evaluator = Evaluator(metric)
    evaluator.process([data_sample])  # the evaluator turns it into a dict, as in a real run
    metric_direct = ICDAR2015HmeanMetric()
    metric_direct.process({}, [data_sample])  # a DataSample object works too
    assert metric_direct.compute_metrics(metric_direct.results)['hmean'] == 1.0
    result = evaluator.evaluate(1)
    assert result == {
        'icdar2015/precision': 1.0,
        'icdar2015/recall': 1.0,
        'icdar2015/hmean': 1.0,
        'icdar2015/best_score_thr': 0.5,
        'icdar2015/best_precision': 1.0,
        'icdar2015/best_recall': 1.0,
        'icdar2015/best_hmean': 1.0
    }


def test_one_evaluator_holds_ours_and_mmocrs_metric():
    from mmocr.evaluation import HmeanIOUMetric

    # gt A matched by a det scored 0.9; gt B only by a det scored 0.2 (below MMOCR's sweep);
    # one false positive scored 0.95. Ours (all predictions): P 2/3, R 1. MMOCR's best over
    # 0.3 .. 0.9: at 0.3 P 1/2 R 1/2 -> H 0.5.
    gts = [rect(0, 0, 10, 10), rect(20, 0, 30, 10)]
    preds = [rect(0, 0, 10, 10), rect(20, 0, 30, 10), rect(50, 0, 60, 10)]
    samples = [sample(gts, preds, scores=[0.9, 0.2, 0.95])]
    evaluator = Evaluator([ICDAR2015HmeanMetric(), HmeanIOUMetric()])
    evaluator.process(samples)
    result = evaluator.evaluate(1)
    assert result['icdar2015/precision'] == pytest.approx(2 / 3)
    assert result['icdar2015/recall'] == pytest.approx(1.0)
    assert result['icdar/hmean'] == pytest.approx(0.5)
    assert result['icdar/precision'] == pytest.approx(0.5)
