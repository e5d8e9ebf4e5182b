"""``mmpse_ext.ops.progressive_scale_expansion`` (the ``pse_ext`` op) on the CPU equals the
official PSENet FIFO algorithm exactly (docs/deploy.md, "The progressive scale expansion users
have"): ``reference_pse`` (pse_reference.py) is a plain transcription of it. mmcv's
``contour_expand`` (what MMOCR 1.0.1 uses) is shown to differ for K >= 3.
"""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pse_reference import (DEVICES, assert_matches_reference, pse_inputs, reference_pse, run_op,
                           word_like_kernels)

from mmpse_ext.ops import progressive_scale_expansion


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pse_inputs())
def test_cpu_matches_reference_on_random_masks(inputs):
    kernels, score, min_area = inputs
    assert_matches_reference(kernels, score, min_area)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), num_levels=st.sampled_from([2, 3, 7, 9, 14]))
def test_cpu_matches_reference_on_touching_words(seed, num_levels):
    rng = np.random.default_rng(seed)
    kernels = word_like_kernels(48, 64, 8, num_levels, rng)
    score = rng.random((48, 64), dtype=np.float32)
    assert_matches_reference(kernels, score, min_area=int(rng.integers(0, 6)))


def strip_kernels() -> np.ndarray:
    """Seeds at both ends of a 3x20 strip, a middle kernel on columns 0-15, text everywhere."""
    kernels = np.zeros((3, 3, 20), np.uint8)
    kernels[0] = 1
    kernels[1, :, :16] = 1
    kernels[2, :, 0] = kernels[2, :, 19] = 1
    return kernels


def test_strip_splits_17_3_like_the_reference():
    """Progressive expansion: the left seed grows through the middle kernel (columns 0-15)
    while the right one waits for the text level, so the split is 17 / 3."""
    kernels = strip_kernels()
    result = assert_matches_reference(kernels, np.ones((3, 20), np.float32), 0)
    expected = np.repeat(np.array([[1] * 17 + [2] * 3], np.int32), 3, axis=0)
    np.testing.assert_array_equal(result.labels.numpy(), expected)
    np.testing.assert_array_equal(result.areas.numpy(), [51, 9])
    np.testing.assert_array_equal(result.boxes.numpy(), [[0, 0, 16, 2], [17, 0, 19, 2]])


def test_mmcv_contour_expand_splits_the_strip_10_10():
    """mmcv's ``contour_expand`` (what MMOCR 1.0.1's ``PSEPostprocessor`` calls, used as MMOCR
    calls it) reads the text map at every level, so both seeds race through it: 10 / 10."""
    import cv2
    from mmcv.ops import contour_expand
    kernels = strip_kernels()
    num_labels, seeds = cv2.connectedComponents(kernels[-1], connectivity=4)
    labels = np.array(contour_expand(kernels, seeds, 0, num_labels))
    np.testing.assert_array_equal(labels, np.repeat(np.array([[1] * 10 + [2] * 10]), 3, axis=0))
    assert not np.array_equal(labels, reference_pse(kernels, 0))


def test_mmcv_contour_expand_agrees_with_two_levels_only():
    """With K = 2 there is no intermediate level to skip: mmcv's op then matches the reference,
    so the 10 / 10 split above is the K >= 3 defect, not a different seed numbering."""
    import cv2
    from mmcv.ops import contour_expand
    rng = np.random.default_rng(7)
    for _ in range(5):
        kernels = word_like_kernels(40, 60, 6, 2, rng)
        num_labels, seeds = cv2.connectedComponents(kernels[-1], connectivity=4)
        labels = np.array(contour_expand(kernels, seeds, 0, num_labels))
        np.testing.assert_array_equal(labels, reference_pse(kernels, 0))


def test_carried_pixels_expand_at_a_later_level():
    # The seed's right pixel cannot expand at level 1 and is carried; at level 0 it reaches the
    # pixel (0, 2), which is only in kernel 0.
    kernels = np.array([[[1, 1, 1]], [[1, 1, 0]], [[1, 1, 0]]], np.uint8)
    result = assert_matches_reference(kernels, np.ones((1, 3), np.float32), 0)
    np.testing.assert_array_equal(result.labels.numpy(), [[1, 1, 1]])


def test_pixels_that_expanded_are_not_carried():
    # Official semantics: a pixel that labelled a neighbour at one level is not queued for the
    # next. Seed (0, 0) labels (1, 0) at level 1 and is dropped, so (0, 1) (kernel 0 only) is
    # reached from (1, 0) -> (1, 1) -> (0, 1) at level 0; (1, 1) is in kernel 0 as well.
    kernels = np.array([[[1, 1], [1, 1]], [[1, 0], [1, 0]], [[1, 0], [0, 0]]], np.uint8)
    result = assert_matches_reference(kernels, np.ones((2, 2), np.float32), 0)
    np.testing.assert_array_equal(result.labels.numpy(), [[1, 1], [1, 1]])
    # A pixel reachable only through a seed that expanded earlier stays unlabelled.
    kernels = np.array([[[1, 1], [1, 0]], [[1, 0], [1, 0]], [[1, 0], [0, 0]]], np.uint8)
    result = assert_matches_reference(kernels, np.ones((2, 2), np.float32), 0)
    np.testing.assert_array_equal(result.labels.numpy(), [[1, 0], [1, 0]])


def test_first_come_wins_in_queue_order():
    # Both seeds are one step from the middle pixel; the raster-first seed is queued first.
    kernels = np.array([[[1, 1, 1]], [[1, 0, 1]]], np.uint8)
    result = assert_matches_reference(kernels, np.ones((1, 3), np.float32), 0)
    np.testing.assert_array_equal(result.labels.numpy(), [[1, 1, 2]])


@pytest.mark.parametrize(
    'order',
    [
        ((1, 0), (-1, 0), (0, -1), (0, 1)),  # down before up
        ((0, -1), (-1, 0), (1, 0), (0, 1)),  # left first
    ])
def test_neighbour_order_is_the_reference_one(order):
    # Inputs on which another neighbour order gives another partition, so these tests see it.
    rng = np.random.default_rng(49)
    word_like_kernels(24, 24, 4, 3, rng)
    cases = [
        word_like_kernels(24, 24, 4, 7, rng),
        np.array([[[1, 0], [1, 1], [1, 1]], [[0, 0], [1, 0], [1, 1]], [[0, 0], [0, 1], [0, 0]]],
                 np.uint8)
    ]
    kernels = next(
        k for k in cases
        if not np.array_equal(reference_pse(k, 0), reference_pse(k, 0, neighbours=order)))
    assert_matches_reference(kernels, np.ones(kernels.shape[1:], np.float32), 0)


@pytest.mark.parametrize('device', DEVICES)
def test_empty_and_degenerate_inputs(device):
    for shape in [(1, 0, 0), (3, 0, 5), (7, 4, 0)]:
        result = run_op(np.zeros(shape, np.uint8), np.zeros(shape[1:], np.float32), 0, device)
        assert result.labels.shape == shape[1:] and result.labels.dtype == torch.int32
        assert result.areas.shape == (0, ) and result.areas.dtype == torch.int64
        assert result.score_sums.shape == (0, ) and result.score_sums.dtype == torch.float64
        assert result.boxes.shape == (0, 4) and result.boxes.dtype == torch.int32
    # No seed at all: every pixel stays background, even inside the text kernel.
    kernels = np.zeros((3, 5, 6), np.uint8)
    kernels[:2] = 1
    result = run_op(kernels, np.ones((5, 6), np.float32), 0, device)
    assert result.labels.abs().sum() == 0 and len(result.areas) == 0


@pytest.mark.parametrize('device', DEVICES)
def test_single_pixel_and_borders(device):
    result = run_op(np.ones((1, 1, 1), np.uint8), np.full((1, 1), 0.5, np.float32), 0, device)
    assert result.labels.tolist() == [[1]] and result.areas.tolist() == [1]
    assert result.score_sums.tolist() == [0.5] and result.boxes.tolist() == [[0, 0, 0, 0]]
    # Seeds in the four corners of a full text map: the expansion must stop at every border.
    kernels = np.zeros((2, 5, 7), np.uint8)
    kernels[0] = 1
    kernels[1, 0, 0] = kernels[1, 0, 6] = kernels[1, 4, 0] = kernels[1, 4, 6] = 1
    score = np.random.default_rng(0).random((5, 7), dtype=np.float32)
    result = assert_matches_reference(kernels, score, 0, device)
    assert len(result.areas) == 4


def test_min_area_drops_small_seeds_but_keeps_their_pixels_claimable():
    kernels = np.zeros((2, 1, 8), np.uint8)
    kernels[0] = 1
    kernels[1, 0, 0] = 1  # 1-pixel seed, dropped with min_area = 2
    kernels[1, 0, 5:8] = 1  # 3-pixel seed
    result = assert_matches_reference(kernels, np.ones((1, 8), np.float32), 2)
    np.testing.assert_array_equal(result.labels.numpy(), [[1] * 8])
    result = assert_matches_reference(kernels, np.ones((1, 8), np.float32), 4)
    assert result.labels.abs().sum() == 0
    # min_area equal to the area keeps the seed (>=, like the reference).
    result = assert_matches_reference(kernels, np.ones((1, 8), np.float32), 3)
    assert result.areas.tolist() == [8]


def test_bool_and_uint8_and_non_contiguous_inputs_agree():
    rng = np.random.default_rng(1)
    kernels = word_like_kernels(40, 60, 6, 7, rng)
    score = rng.random((40, 60), dtype=np.float32)
    expected = assert_matches_reference(kernels, score, 3)
    # Any non-zero byte counts as inside.
    as_255 = run_op(kernels * 255, score, 3)
    # [H, W, K] storage permuted to [K, H, W]; transposed score; bool dtype.
    kernels_hwk = torch.from_numpy(np.ascontiguousarray(kernels.transpose(1, 2, 0)))
    score_t = torch.from_numpy(np.ascontiguousarray(score.T))
    permuted = progressive_scale_expansion(kernels_hwk.permute(2, 0, 1).bool(), score_t.T, 3)
    assert not kernels_hwk.permute(2, 0, 1).is_contiguous() and not score_t.T.is_contiguous()
    # A strided view: every other row and column of a larger array.
    big = np.zeros((7, 80, 120), np.uint8)
    big[:, ::2, ::2] = kernels
    big_score = np.zeros((80, 120), np.float32)
    big_score[::2, ::2] = score
    strided = progressive_scale_expansion(
        torch.from_numpy(big)[:, ::2, ::2],
        torch.from_numpy(big_score)[::2, ::2], 3)
    for other in (as_255, permuted, strided):
        for got, want in zip(other, expected):
            assert torch.equal(got, want)


def test_many_levels_span_several_packed_blocks():
    # K - 1 = 13 expansion levels exceed one packed block of six; non-nested masks make every
    # level matter.
    rng = np.random.default_rng(2)
    for _ in range(20):
        kernels = (rng.random((14, 12, 15)) < 0.6).astype(np.uint8)
        kernels[-1] = rng.random((12, 15)) < 0.15
        assert_matches_reference(kernels, rng.random((12, 15), dtype=np.float32), 0)


def test_realistic_image_matches_reference():
    rng = np.random.default_rng(3)
    kernels = word_like_kernels(160, 240, 25, 7, rng)
    score = rng.random((160, 240), dtype=np.float32)
    result = assert_matches_reference(kernels, score, 4)
    assert len(result.areas) >= 10  # the generator really produced many instances
