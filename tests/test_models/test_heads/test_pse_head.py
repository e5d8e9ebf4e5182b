"""PSEHead: logit shape, scoped nested defaults, loss/predict through MMOCR's base class."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmocr.structures import TextDetDataSample

from mmpse_ext.models.heads import PSEHead
from mmpse_ext.models.losses import PSELoss
from mmpse_ext.models.postprocessors import PSEPostprocessor


def _samples(batch, size):
    samples = []
    for _ in range(batch):
        sample = TextDetDataSample(metainfo=dict(img_shape=size, ori_shape=size,
                                                 scale_factor=(1.0, 1.0)))
        kernels = torch.zeros(7, *size, dtype=torch.uint8)
        for level in range(7):
            kernels[level, 8 + level:24 - level, 8 + level:40 - level] = 1
        sample.gt_kernels = kernels
        sample.gt_train_mask = torch.ones(size, dtype=torch.uint8)
        samples.append(sample)
    return samples


def test_builds_scoped_defaults_under_the_mmocr_scope():
    init_default_scope('mmocr')
    head = PSEHead(in_channels=16, hidden_dim=8)
    assert isinstance(head.module_loss, PSELoss)
    assert isinstance(head.postprocessor, PSEPostprocessor)
    assert head.postprocessor.text_repr_type == 'quad'
    assert head.postprocessor.score_threshold == 0.85


def test_logits_shape_and_gradients_reach_every_parameter():
    init_default_scope('mmocr')
    head = PSEHead(in_channels=16, hidden_dim=8, out_channel=7)
    head.init_weights()
    features = torch.randn(2, 16, 8, 12)
    assert head(features).shape == (2, 7, 8, 12)
    losses = head.loss(features, _samples(2, (32, 48)))
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_predict_fills_pred_instances():
    init_default_scope('mmocr')
    head = PSEHead(in_channels=16, hidden_dim=8)
    head.eval()
    results = head.predict(torch.randn(1, 16, 8, 12), _samples(1, (32, 48)))
    assert isinstance(results[0].pred_instances.polygons, list)
    assert results[0].pred_instances.scores.dtype == torch.float32


def test_rejects_bad_input():
    init_default_scope('mmocr')
    head = PSEHead(in_channels=16, hidden_dim=8)
    with pytest.raises(ValueError, match=r'expected \[N, 16, H, W\]'):
        head(torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match='out_channel'):
        PSEHead(out_channel=0)
