"""Tests of ``progressive_scale_expansion_packed`` and ``pack_kernel_masks``.

The packed op must equal the mask op on the unpacked masks, with the score map made by torch from
the same low-resolution text logits::

    kernels[k] = (packed >> k) & 1
    score = sigmoid(F.interpolate(text_logits, scale_factor=s, mode='bilinear'))[:H, :W]
    progressive_scale_expansion(kernels, score, min_area)

Labels, areas and boxes exactly; score sums within float32 rounding (rtol 1e-5), since the op
evaluates the sigmoid itself at the labelled pixels.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pse_reference import word_like_kernels
from torch_features import needs_fake_kernels, needs_opcheck

from mmpse_ext.ops import (pack_kernel_masks, progressive_scale_expansion,
                           progressive_scale_expansion_packed)


def text_score(text_logits: torch.Tensor, scale: int, out_size) -> torch.Tensor:
    height, width = out_size
    up = F.interpolate(
        text_logits[None, None], scale_factor=scale, mode='bilinear', align_corners=False)
    return up[0, 0, :height, :width].sigmoid().contiguous()


def assert_same(result, expected):
    assert torch.equal(result.labels, expected.labels)
    assert torch.equal(result.areas, expected.areas)
    assert torch.equal(result.boxes, expected.boxes)
    torch.testing.assert_close(result.score_sums, expected.score_sums, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('num_levels', [1, 2, 3, 7, 8])
@pytest.mark.parametrize('scale', [1, 2, 4])
def test_equals_the_mask_op_on_the_unpacked_masks(num_levels, scale):
    """K = 8 exercises the op's unpacked path (more levels than one packed block holds)."""
    rng = np.random.default_rng(10 * num_levels + scale)
    for trial in range(3):
        height, width = (int(v) for v in rng.integers(8, 40, 2) * scale)
        if trial == 2:  # a crop of the upsampled size, as for a padded batch
            height, width = height - scale + 1, width - 1
        kernels = torch.from_numpy(
            word_like_kernels(height, width, 6, num_levels, rng).astype(np.uint8))
        text_logits = torch.from_numpy(
            rng.normal(2, 2, (-(-height // scale), -(-width // scale))).astype(np.float32))
        packed = pack_kernel_masks(kernels)
        min_area = int(rng.integers(0, 6))
        result = progressive_scale_expansion_packed(packed, num_levels, text_logits, scale,
                                                    min_area)
        expected = progressive_scale_expansion(kernels,
                                               text_score(text_logits, scale, (height, width)),
                                               min_area)
        assert_same(result, expected)
    assert len(expected.areas) > 0  # the generator made instances


def test_packing_round_trips_exactly():
    rng = np.random.default_rng(0)
    for num_levels in range(1, 9):
        masks = torch.from_numpy(rng.random((num_levels, 13, 17)) < 0.4)
        packed = pack_kernel_masks(masks)
        assert packed.dtype == torch.uint8 and packed.shape == (13, 17)
        unpacked = torch.stack([(packed >> k) & 1 for k in range(num_levels)]).bool()
        assert torch.equal(unpacked, masks)
        assert int(packed.max()) < 2**num_levels
        assert torch.equal(pack_kernel_masks(masks.to(torch.uint8)), packed)


def test_bits_above_num_levels_are_ignored():
    rng = np.random.default_rng(1)
    kernels = torch.from_numpy(word_like_kernels(32, 48, 4, 3, rng).astype(np.uint8))
    text = torch.zeros(8, 12)
    packed = pack_kernel_masks(kernels)
    noisy = packed | (torch.from_numpy(rng.integers(0, 32, (32, 48)).astype(np.uint8)) << 3)
    assert_same(
        progressive_scale_expansion_packed(noisy, 3, text, 4, 2),
        progressive_scale_expansion_packed(packed, 3, text, 4, 2))


def test_empty_and_single_pixel_maps():
    empty = progressive_scale_expansion_packed(
        torch.zeros(0, 5, dtype=torch.uint8), 3, torch.zeros(1, 2), 4, 0)
    assert empty.labels.shape == (0, 5) and empty.areas.numel() == 0
    assert empty.boxes.shape == (0, 4)
    one = progressive_scale_expansion_packed(
        torch.ones(1, 1, dtype=torch.uint8), 1, torch.zeros(1, 1), 1, 0)
    assert one.labels.tolist() == [[1]] and one.areas.tolist() == [1]
    assert one.boxes.tolist() == [[0, 0, 0, 0]]
    torch.testing.assert_close(one.score_sums, torch.tensor([0.5], dtype=torch.float64))


@needs_opcheck
def test_opcheck():
    rng = np.random.default_rng(4)
    kernels = torch.from_numpy(word_like_kernels(24, 32, 4, 3, rng).astype(np.uint8))
    packed = pack_kernel_masks(kernels)
    text = torch.randn(6, 8, generator=torch.Generator().manual_seed(0))
    op = torch.ops.pse_ext.progressive_scale_expansion_packed.default
    torch.library.opcheck(op, (packed, 3, text, 4, 2))
    torch.library.opcheck(op, (packed[:21, :30], 3, text, 4, 0))
    torch.library.opcheck(op, (packed[:0], 3, text, 4, 0))


@needs_fake_kernels
def test_fake_kernel_gives_dynamic_instance_count():
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import ShapeEnv
    with FakeTensorMode(shape_env=ShapeEnv()):
        labels, areas, sums, boxes = progressive_scale_expansion_packed(
            torch.zeros(60, 96, dtype=torch.uint8), 7, torch.zeros(16, 24), 4, 3)
    assert labels.shape == (60, 96) and labels.dtype == torch.int32
    assert isinstance(areas.shape[0], torch.SymInt)
    assert str(boxes.shape[0]) == str(areas.shape[0]) == str(sums.shape[0])


U8 = torch.uint8
BAD_INPUTS = [
    # (packed, num_levels, text_logits, scale, min_area, message fragment with the bad value)
    (torch.zeros(2, 8, 8, dtype=U8), 3, torch.zeros(2, 2), 4, 0, 'got 3D'),
    (torch.zeros(8, 8), 3, torch.zeros(2, 2), 4, 0, 'packed should be uint8, got Float'),
    (torch.zeros(8, 8, dtype=U8), 0, torch.zeros(2, 2), 4, 0,
     'num_levels should be in [1, 8] (one bit per level in a byte), got 0'),
    (torch.zeros(8, 8, dtype=U8), 9, torch.zeros(2, 2), 4, 0, 'got 9'),
    (torch.zeros(8, 8, dtype=U8), 3, torch.zeros(1, 2, 2), 4, 0, 'text_logits should be a 2D'),
    (torch.zeros(8, 8, dtype=U8), 3, torch.zeros(2, 2, dtype=torch.float64), 4, 0,
     'text_logits should be float32, got Double'),
    (torch.zeros(8, 8, dtype=U8), 3, torch.zeros(2, 2), 0, 0, 'scale should be an integer in '
     '[1, 64], got 0'),
    (torch.zeros(9, 8, dtype=U8), 3, torch.zeros(2, 2), 4, 0, 'should fit in scale * '
     'text_logits = [8, 8]'),
    (torch.zeros(8, 8, dtype=U8), 3, torch.zeros(2, 2), 4, -2, 'min_area should be >= 0, got -2'),
]


@pytest.mark.parametrize('packed,num_levels,text,scale,min_area,message', BAD_INPUTS)
def test_bad_inputs_raise_with_the_offending_value(packed, num_levels, text, scale, min_area,
                                                   message):
    with pytest.raises(RuntimeError, match='progressive_scale_expansion_packed') as error:
        progressive_scale_expansion_packed(packed, num_levels, text, scale, min_area)
    assert message in str(error.value)
    with pytest.raises(RuntimeError, match='progressive_scale_expansion_packed'):
        progressive_scale_expansion_packed(
            packed.to('meta'), num_levels, text.to('meta'), scale, min_area)


def test_pack_kernel_masks_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r'1 <= K <= 8, got shape \[9, 2, 2\]'):
        pack_kernel_masks(torch.zeros(9, 2, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match='bool or uint8, got torch.float32'):
        pack_kernel_masks(torch.zeros(2, 2, 2))


@pytest.mark.needs_cuda
def test_packing_on_cuda_equals_packing_on_cpu():
    masks = torch.rand(7, 64, 96, generator=torch.Generator().manual_seed(0)) < 0.5
    assert torch.equal(pack_kernel_masks(masks.cuda()).cpu(), pack_kernel_masks(masks))
