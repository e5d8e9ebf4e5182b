"""PSEHead: logit shape, scoped nested defaults, loss/predict through MMOCR's base class."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmocr.structures import TextDetDataSample

from mmpse_ext.models.heads import PSEHead
from mmpse_ext.models.losses import PSELoss
from mmpse_ext.models.postprocessors import PSEPostprocessor


def _samples(batch, size):
    samples = []
    for _ in range(batch):
        sample = TextDetDataSample(
            metainfo=dict(img_shape=size, ori_shape=size, scale_factor=(1.0, 1.0)))
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


def _plain_head(head, features):
    """The head's layers written out with torch.nn.functional: 3x3 conv (bias) -> BN with the
    running statistics -> ReLU -> 1x1 conv (bias)."""
    hidden = F.conv2d(features, head.fuse_conv.weight, head.fuse_conv.bias, padding=1)
    bn = head.fuse_bn
    hidden = F.batch_norm(
        hidden, bn.running_mean, bn.running_var, bn.weight, bn.bias, training=False, eps=bn.eps)
    return F.conv2d(F.relu(hidden), head.out_conv.weight, head.out_conv.bias)


def test_eval_forward_is_conv_bn_relu_conv_and_predict_decodes_it():
    init_default_scope('mmocr')
    torch.manual_seed(0)
    head = PSEHead(
        in_channels=16,
        hidden_dim=8,
        postprocessor=dict(type='mmpse_ext.PSEPostprocessor', score_threshold=0.5))
    with torch.no_grad():  # BN statistics and affine parameters that change the result
        head.fuse_bn.running_mean.uniform_(-0.5, 0.5)
        head.fuse_bn.running_var.uniform_(0.5, 2.0)
        head.fuse_bn.weight.uniform_(0.5, 1.5)
        head.fuse_bn.bias.uniform_(-0.2, 0.2)
        head.out_conv.bias.fill_(1.0)
    head.eval()
    # Smooth features so that the logits form blobs (instances) rather than noise.
    features = F.interpolate(
        torch.randn(1, 16, 4, 6), size=(8, 12), mode='bilinear', align_corners=False)
    expected = _plain_head(head, features)
    torch.testing.assert_close(head(features), expected, rtol=1e-5, atol=1e-5)
    # predict = the post-processor on those logits (the ×4 input size of the samples)
    results = head.predict(features, _samples(1, (32, 48)))
    reference = PSEPostprocessor(score_threshold=0.5)(expected, _samples(1, (32, 48)))
    ours, theirs = results[0].pred_instances, reference[0].pred_instances
    assert len(theirs.polygons) > 0
    assert len(ours.polygons) == len(theirs.polygons)
    for a, b in zip(ours.polygons, theirs.polygons):
        np.testing.assert_allclose(a, b, atol=1e-4)
    torch.testing.assert_close(ours.scores, theirs.scores)


def test_rejects_bad_input():
    init_default_scope('mmocr')
    head = PSEHead(in_channels=16, hidden_dim=8)
    with pytest.raises(ValueError, match=r'expected \[N, 16, H, W\]'):
        head(torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match='out_channel'):
        PSEHead(out_channel=0)


def test_mmocr_list_in_channels_equal_the_int():
    """``in_channels=[64]`` (MMOCR's configs) builds the same layers as ``in_channels=64``."""
    init_default_scope('mmocr')
    torch.manual_seed(0)
    as_int = PSEHead(in_channels=64, hidden_dim=8)
    as_list = PSEHead(in_channels=[64], hidden_dim=8)
    as_list.load_state_dict(as_int.state_dict())  # same parameter names and shapes
    as_int.eval()
    as_list.eval()
    features = torch.randn(1, 64, 6, 6)
    assert torch.equal(as_int(features), as_list(features))


def test_several_inputs_are_concatenated_like_mmocr():
    """As MMOCR's PANHead: channels summed, a tuple of same-size maps concatenated."""
    from mmocr.models.textdet.heads import PSEHead as MMOCRPSEHead
    init_default_scope('mmocr')
    ours = PSEHead(in_channels=[8, 24], hidden_dim=8, out_channel=7)
    stock = MMOCRPSEHead(in_channels=[8, 24], hidden_dim=8, out_channel=7)
    assert ours.fuse_conv.in_channels == stock.conv1.in_channels == 32
    # Give ours MMOCR's weights (same layer layout: 3x3 conv, BN, ReLU, 1x1 conv).
    ours.fuse_conv.load_state_dict(stock.conv1.state_dict())
    ours.fuse_bn.load_state_dict(stock.bn1.state_dict())
    ours.out_conv.load_state_dict(stock.conv2.state_dict())
    ours.eval()
    stock.eval()
    maps = (torch.randn(2, 8, 5, 7), torch.randn(2, 24, 5, 7))
    torch.testing.assert_close(ours(maps), stock(maps))
    torch.testing.assert_close(ours(list(maps)), ours(torch.cat(maps, dim=1)))


def test_bad_in_channels_and_mismatched_inputs_fail_clearly():
    init_default_scope('mmocr')
    for bad in ([], [64, 'a'], 64.0, None, True):
        with pytest.raises(TypeError, match='in_channels must be an int or a non-empty list'):
            PSEHead(in_channels=bad)
    with pytest.raises(ValueError, match='in_channels must be positive'):
        PSEHead(in_channels=[0])
    head = PSEHead(in_channels=[8, 24], hidden_dim=8)
    with pytest.raises(ValueError, match=r'C = \[8, 24\]'):
        head((torch.randn(1, 24, 5, 7), torch.randn(1, 8, 5, 7)))
    with pytest.raises(ValueError, match='of one size'):
        head((torch.randn(1, 8, 5, 7), torch.randn(1, 24, 4, 7)))
