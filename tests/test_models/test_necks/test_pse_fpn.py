"""PSEFPN: output layout, top-down fusion order, gradients, input checks."""
import pytest
import torch
import torch.nn.functional as F

from mmpse_ext.models.necks import PSEFPN


def _inputs(channels=(8, 16, 32, 64), size=(16, 24), batch=2):
    generator = torch.Generator().manual_seed(0)
    return [
        torch.randn(batch, ch, size[0] >> i, size[1] >> i, generator=generator)
        for i, ch in enumerate(channels)
    ]


def test_output_is_four_levels_concatenated_at_the_finest_resolution():
    neck = PSEFPN(in_channels=(8, 16, 32, 64), out_channels=4)
    out = neck(_inputs())
    assert out.shape == (2, 16, 16, 24)


def test_channel_blocks_are_p2_p3_p4_p5_in_that_order():
    # With identity-like laterals (1×1 conv = pick channel 0) and smoothing disabled (the 3×3
    # kernel is a centre tap), p5 = relu(f5[:, 0]) and the last block is p5 upsampled ×8.
    neck = PSEFPN(in_channels=(1, 1, 1, 1), out_channels=1)
    with torch.no_grad():
        for conv in list(neck.lateral_convs) + list(neck.smooth_convs):
            conv.conv.weight.zero_()
            conv.conv.weight[0, 0, conv.conv.weight.shape[-2] // 2,
                             conv.conv.weight.shape[-1] // 2] = 1.0
    neck.eval()  # BN with running stats 0/1: identity up to eps
    inputs = [x.abs() for x in _inputs((1, 1, 1, 1), (32, 32), 1)]
    out = neck(inputs)
    scale = (1 + 1e-5)**-0.5

    def up(x, factor):
        return F.interpolate(x, scale_factor=factor, mode='bilinear', align_corners=False)

    p5 = inputs[3] * scale
    p4 = (up(p5, 2) + inputs[2] * scale) * scale
    p3 = (up(p4, 2) + inputs[1] * scale) * scale
    p2 = (up(p3, 2) + inputs[0] * scale) * scale
    expected = torch.cat([p2, up(p3, 2), up(p4, 4), up(p5, 8)], dim=1)
    assert torch.allclose(out, expected, atol=1e-5)


def test_gradients_reach_every_parameter():
    neck = PSEFPN(in_channels=(8, 16, 32, 64), out_channels=4)
    neck(_inputs()).square().mean().backward()
    for name, parameter in neck.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_non_multiple_of_32_sizes_are_accepted():
    inputs = [torch.randn(1, ch, s, s) for ch, s in zip((8, 16, 32, 64), (25, 13, 7, 4))]
    assert PSEFPN(in_channels=(8, 16, 32, 64), out_channels=4)(inputs).shape == (1, 16, 25, 25)


def test_rejects_wrong_number_of_levels():
    with pytest.raises(ValueError, match='4 levels'):
        PSEFPN(in_channels=(8, 16, 32))
    with pytest.raises(ValueError, match='expected 4 feature levels, got 3'):
        PSEFPN(in_channels=(8, 16, 32, 64))(_inputs()[:3])


def test_default_batchnorm_updates_running_stats_like_paddles_fpn():
    # Paddle's FPN BatchNorm2D(momentum=0.1): running = 0.1 * running + 0.9 * batch
    neck = PSEFPN(in_channels=(8, 16, 32, 64), out_channels=4).train()
    bn = neck.lateral_convs[0].bn
    seen = []
    bn.register_forward_hook(lambda m, args, out: seen.append(args[0].detach()))
    before = bn.running_mean.clone()
    neck(_inputs())
    batch_mean = seen[0].mean(dim=(0, 2, 3))
    assert torch.allclose(bn.running_mean, 0.1 * before + 0.9 * batch_mean, atol=1e-6)
