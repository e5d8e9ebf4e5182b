"""upsampled_positive_mask equals `F.interpolate(..., 'bilinear') > 0` up to float rounding."""
import pytest
import torch
import torch.nn.functional as F

from mmpse_ext.models.postprocessors import upsampled_positive_mask


def _reference(logits, scale):
    return F.interpolate(logits[None], scale_factor=scale, mode='bilinear',
                         align_corners=False)[0]


def _assert_matches(logits, scale, out_size=None):
    ours = upsampled_positive_mask(logits, scale, out_size)
    full = _reference(logits, scale)
    if out_size is not None:
        full = full[:, :out_size[0], :out_size[1]]
    assert ours.dtype == torch.bool and ours.is_contiguous()
    assert ours.shape == full.shape
    differ = ours != (full > 0)
    # Only values within float rounding of zero may disagree.
    if differ.any():
        assert full[differ].abs().max().item() <= 1e-5
    assert differ.sum().item() <= 2
    return ours, full


@pytest.mark.parametrize('scale', [2, 4, 8])
@pytest.mark.parametrize('shape', [(1, 1, 1), (3, 1, 5), (7, 9, 13), (2, 23, 17)])
def test_matches_bilinear_interpolation_on_smooth_and_noisy_maps(scale, shape):
    generator = torch.Generator().manual_seed(sum(shape) * scale)
    noisy = torch.randn(shape, generator=generator)
    _assert_matches(noisy, scale)
    smooth = F.interpolate(torch.randn((1, shape[0], 3, 3), generator=generator) * 4,
                           size=shape[1:], mode='bilinear', align_corners=False)[0]
    _assert_matches(smooth, scale)


def test_mixed_and_uniform_cells_are_both_exercised():
    # Left half strongly positive, right half strongly negative, one mixed column between.
    logits = torch.full((2, 6, 8), -5.0)
    logits[:, :, :4] = 5.0
    ours, full = _assert_matches(logits, 4)
    assert ours[:, :, :14].all() and not ours[:, :, 18:].any()
    # Interpolation crosses zero in the middle of the mixed cell (between columns 3 and 4).
    assert torch.equal(ours[0, 0, 12:20], torch.tensor([True] * 4 + [False] * 4))


def test_top_left_crop_equals_crop_of_full_map():
    generator = torch.Generator().manual_seed(3)
    logits = torch.randn((4, 10, 12), generator=generator)
    _assert_matches(logits, 4, out_size=(37, 45))
    _assert_matches(logits, 4, out_size=(1, 1))


def test_rejects_bad_arguments():
    logits = torch.zeros(2, 4, 4)
    with pytest.raises(ValueError, match='scale must be one of'):
        upsampled_positive_mask(logits, 3)
    with pytest.raises(ValueError, match=r'float \[C, h, w\]'):
        upsampled_positive_mask(torch.zeros(4, 4), 4)
    with pytest.raises(ValueError, match='float'):
        upsampled_positive_mask(torch.zeros(2, 4, 4, dtype=torch.int32), 4)
    with pytest.raises(ValueError, match='out_size'):
        upsampled_positive_mask(logits, 4, out_size=(17, 16))


@pytest.mark.needs_cuda
def test_cuda_matches_cpu():
    generator = torch.Generator().manual_seed(5)
    logits = torch.randn((7, 31, 45), generator=generator)
    assert torch.equal(upsampled_positive_mask(logits.cuda(), 4).cpu(),
                       upsampled_positive_mask(logits, 4))
