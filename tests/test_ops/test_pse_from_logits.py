"""Tests of ``mmpse_ext.ops.progressive_scale_expansion_from_logits`` (fused CPU op).

The op must equal the unfused pipeline it replaces::

    up = F.interpolate(logits[None], scale_factor=s, mode='bilinear')[0, :, :H, :W]
    progressive_scale_expansion((up > 0) & (up[:1] > 0), up[0].sigmoid(), min_area)

The only allowed difference is float rounding of the interpolated logits (torch's kernel may
contract to FMA, ours may not), which can flip a mask only where the interpolated logit is within
rounding of 0. So:
- with logits that are small integers and s in {1, 2, 4, 8}, every step is exact in float32 (the
  weights are multiples of 1/16): labels, areas and boxes must be identical, exact zeros included;
- with real-valued logits, each thresholded mask may differ from torch's only at pixels with
  |interpolated logit| <= EPSILON · max|logit| (EPSILON = 1e-5, ~100 float32 ulps), and labels
  must be identical on inputs where no pixel is that close to 0;
- score sums agree to float32 rounding (rtol 1e-5).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pse_reference import reference_pse
from torch_features import needs_fake_kernels, needs_opcheck

from mmpse_ext.models.postprocessors.kernel_masks import logit_threshold
from mmpse_ext.ops import (PSEResult, progressive_scale_expansion,
                           progressive_scale_expansion_from_logits)

EPSILON = 1e-5


def upsample(logits: torch.Tensor, scale: int, out_size) -> torch.Tensor:
    height, width = out_size
    up = F.interpolate(logits[None], scale_factor=scale, mode='bilinear', align_corners=False)
    return up[0, :, :height, :width]


def unfused(logits: torch.Tensor, scale: int, out_size, min_area: int) -> PSEResult:
    """The pipeline the fused op replaces, built from torch ops and the unfused pse op."""
    up = upsample(logits, scale, out_size)
    kernels = (up > 0) & (up[:1] > 0)
    return progressive_scale_expansion(kernels, up[0].sigmoid().contiguous(), min_area)


def word_logits(num_levels: int, height: int, width: int, num_words: int, rng: np.random.Generator,
                integer: bool) -> torch.Tensor:
    """Low-resolution PSENet-like logits [K, h, w]: rotated word boxes shrinking per level (some
    touching their left neighbour), +3 inside / -3 outside plus noise; integers or blurred
    reals."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    inside = np.zeros((num_levels, height, width), bool)
    cx = 0.0
    for _ in range(num_words):
        half_w, half_h = rng.uniform(2, max(3, width / 6)), rng.uniform(1.5, max(2, height / 8))
        cx = cx + half_w if rng.random() < 0.5 else rng.uniform(0, width)
        cy, angle = rng.uniform(0, height), rng.uniform(-0.4, 0.4)
        u = (xs - cx) * np.cos(angle) + (ys - cy) * np.sin(angle)
        v = -(xs - cx) * np.sin(angle) + (ys - cy) * np.cos(angle)
        for level in range(num_levels):
            shrink = 0.6 * level / max(1, num_levels - 1) * min(half_w, half_h)
            inside[level] |= (np.abs(u) <= half_w - shrink) & (np.abs(v) <= half_h - shrink)
        cx += half_w
    if integer:
        noise = rng.integers(-2, 3, inside.shape)
        return torch.from_numpy(np.where(inside, 3, -3) + noise).float()
    values = np.where(inside, 3.0, -3.0) + rng.normal(0, 1.5, inside.shape)
    smooth = (values + np.roll(values, 1, 1) + np.roll(values, 1, 2)) / 3  # mild blur
    return torch.from_numpy(smooth.astype(np.float32))


def assert_same(result: PSEResult, expected: PSEResult):
    assert torch.equal(result.labels, expected.labels)
    assert torch.equal(result.areas, expected.areas)
    assert torch.equal(result.boxes, expected.boxes)
    torch.testing.assert_close(result.score_sums, expected.score_sums, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('scale', [1, 2, 4, 8])
@pytest.mark.parametrize('num_levels', [1, 2, 3, 7, 9])
def test_integer_logits_give_identical_results(scale, num_levels):
    """Exact arithmetic: identical outputs, also where interpolated logits are exactly 0; K = 9
    exercises the op's unpacked path (more levels than one packed block holds)."""
    rng = np.random.default_rng(100 * scale + num_levels)
    exact_zeros = 0
    for trial in range(4):
        height, width = rng.integers(6, 30, 2)
        logits = word_logits(num_levels, height, width, 6, rng, integer=True)
        full = (scale * height, scale * width)
        out_size = full if trial % 2 == 0 else (full[0] - rng.integers(0, scale + 3),
                                                full[1] - rng.integers(0, scale + 3))
        out_size = (max(0, int(out_size[0])), max(0, int(out_size[1])))
        min_area = int(rng.integers(0, 3 * scale))
        expected = unfused(logits, scale, out_size, min_area)
        result = progressive_scale_expansion_from_logits(logits, scale, out_size, min_area)
        assert_same(result, expected)
        exact_zeros += int((upsample(logits, scale, out_size) == 0).sum())
    if num_levels > 1:  # the generator makes instances
        assert len(expected.areas) > 0
    if scale > 1:  # and interpolated logits that are exactly 0 (the threshold's tie)
        assert exact_zeros > 0


@pytest.mark.parametrize('scale', [2, 3, 4])
def test_real_logits_masks_differ_only_within_rounding_of_zero(scale):
    """Per channel (K = 1, min_area = 0: labelled pixels = the thresholded map), the mask differs
    from torch's only where |interpolated logit| <= EPSILON · max|logit|."""
    rng = np.random.default_rng(scale)
    for _ in range(5):
        logits = word_logits(4, 23, 37, 5, rng, integer=False)
        out_size = (scale * 23 - 1, scale * 37)
        up = upsample(logits, scale, out_size)
        near_zero = up.abs() <= EPSILON * logits.abs().max()
        for channel in range(logits.shape[0]):
            result = progressive_scale_expansion_from_logits(logits[channel:channel + 1], scale,
                                                             out_size, 0)
            differs = (result.labels > 0) != (up[channel] > 0)
            assert not bool((differs & ~near_zero[channel]).any())


@pytest.mark.parametrize('scale', [3, 4])
def test_real_logits_give_identical_labels_when_no_pixel_is_near_zero(scale):
    rng = np.random.default_rng(10 + scale)
    checked = 0
    for _ in range(8):
        logits = word_logits(7, 40, 64, 10, rng, integer=False)
        out_size = (scale * 40, scale * 64 - 2)
        up = upsample(logits, scale, out_size)
        if bool((up.abs() <= EPSILON * logits.abs().max()).any()):
            continue  # outside the promise; covered by the mask test above
        checked += 1
        expected = unfused(logits, scale, out_size, 4)
        assert len(expected.areas) >= 3
        assert_same(progressive_scale_expansion_from_logits(logits, scale, out_size, 4), expected)
    assert checked >= 4  # the precondition is the common case, so the test is not vacuous


def test_touching_instances_split_like_the_unfused_op():
    """Two seeds in one text region: the middle kernel decides the split (the 3×20 strip of
    tests/test_ops/test_pse.py at 1/4 resolution, built from integer logits)."""
    text = torch.full((3, 20), 2.0)
    middle = torch.full((3, 20), -2.0)
    middle[:, :15] = 2.0
    smallest = torch.full((3, 20), -2.0)
    smallest[:, 0] = smallest[:, 19] = 2.0
    logits = torch.stack([text, middle, smallest])
    result = progressive_scale_expansion_from_logits(logits, 4, (12, 80), 0)
    assert_same(result, unfused(logits, 4, (12, 80), 0))
    assert result.areas.tolist()[0] > 3 * result.areas.tolist()[1] > 0


def test_empty_sizes_and_single_pixel_maps():
    logits = torch.ones(3, 4, 5)
    for out_size in [(0, 0), (0, 20), (16, 0)]:
        result = progressive_scale_expansion_from_logits(logits, 4, out_size, 0)
        assert result.labels.shape == out_size and result.areas.numel() == 0
        assert result.boxes.shape == (0, 4)
    one = progressive_scale_expansion_from_logits(torch.ones(2, 1, 1), 4, (4, 4), 0)
    assert one.labels.tolist() == [[1] * 4] * 4 and one.areas.tolist() == [16]
    torch.testing.assert_close(
        one.score_sums,
        torch.tensor([16 * torch.sigmoid(torch.tensor(1.0)).item()], dtype=torch.float64))
    none = progressive_scale_expansion_from_logits(-torch.ones(2, 1, 1), 4, (4, 4), 0)
    assert int(none.labels.abs().sum()) == 0 and none.areas.numel() == 0


def test_non_contiguous_logits_and_repeated_calls_agree():
    rng = np.random.default_rng(7)
    logits = word_logits(7, 20, 30, 6, rng, integer=True)
    expected = unfused(logits, 4, (80, 120), 2)
    transposed = logits.transpose(1, 2).contiguous().transpose(1, 2)
    for _ in range(2):  # thread-local buffers are reused: a second call must not see the first
        assert_same(progressive_scale_expansion_from_logits(transposed, 4, (80, 120), 2), expected)
    small = word_logits(3, 5, 6, 2, rng, integer=True)
    assert_same(
        progressive_scale_expansion_from_logits(small, 4, (20, 24), 0),
        unfused(small, 4, (20, 24), 0))


@needs_opcheck
def test_opcheck():
    rng = np.random.default_rng(4)
    logits = word_logits(7, 12, 16, 4, rng, integer=True)
    op = torch.ops.pse_ext.progressive_scale_expansion_from_logits.default
    torch.library.opcheck(op, (logits, 4, 48, 64, 2))
    torch.library.opcheck(op, (logits[:1], 2, 23, 31, 0))
    torch.library.opcheck(op, (logits, 4, 0, 64, 0))


@needs_fake_kernels
def test_fake_kernel_gives_dynamic_instance_count():
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import ShapeEnv
    with FakeTensorMode(shape_env=ShapeEnv()):
        labels, areas, sums, boxes = progressive_scale_expansion_from_logits(
            torch.zeros(7, 16, 24), 4, (60, 96), 3)
    assert labels.shape == (60, 96) and labels.dtype == torch.int32
    assert isinstance(areas.shape[0], torch.SymInt)
    assert str(boxes.shape[0]) == str(areas.shape[0]) == str(sums.shape[0])
    assert (areas.dtype, sums.dtype, boxes.dtype) == (torch.int64, torch.float64, torch.int32)


BAD_INPUTS = [
    # (logits, scale, (height, width), min_area, message fragment with the bad value)
    (torch.zeros(4, 5), 4, (16, 20), 0, 'got 2D'),
    (torch.zeros(1, 2, 4, 5), 4, (16, 20), 0, 'got 4D'),
    (torch.zeros(2, 4, 5, dtype=torch.float64), 4, (16, 20), 0, 'float32, got Double'),
    (torch.zeros(2, 4, 5, dtype=torch.uint8), 4, (16, 20), 0, 'float32, got Byte'),
    (torch.zeros(0, 4, 5), 4, (16, 20), 0, 'K = 0'),
    (torch.zeros(2, 4, 5), 0, (0, 0), 0, 'scale should be an integer in [1, 64], got 0'),
    (torch.zeros(2, 4, 5), 65, (16, 20), 0, 'got 65'),
    (torch.zeros(2, 4, 5), 4, (17, 20), 0, 'height should be in [0, scale * h] = [0, 16], got 17'),
    (torch.zeros(2, 4, 5), 4, (-1, 20), 0, 'got -1'),
    (torch.zeros(2, 4, 5), 4, (16, 21), 0, 'width should be in [0, scale * w] = [0, 20], got 21'),
    (torch.zeros(2, 4, 5), 4, (16, 20), -3, 'min_area should be >= 0, got -3'),
]


@pytest.mark.parametrize('logits,scale,out_size,min_area,message', BAD_INPUTS)
def test_bad_inputs_raise_with_the_offending_value(logits, scale, out_size, min_area, message):
    with pytest.raises(RuntimeError, match='progressive_scale_expansion_from_logits') as error:
        progressive_scale_expansion_from_logits(logits, scale, out_size, min_area)
    assert message in str(error.value)


@needs_fake_kernels
@pytest.mark.parametrize('logits,scale,out_size,min_area,message', BAD_INPUTS)
def test_bad_inputs_raise_in_the_fake_kernel_too(logits, scale, out_size, min_area, message):
    with pytest.raises(RuntimeError, match='progressive_scale_expansion_from_logits'):
        progressive_scale_expansion_from_logits(logits.to('meta'), scale, out_size, min_area)


def is_valid(logits, scale, out_size, min_area) -> bool:
    return (logits.dim() == 3 and logits.dtype == torch.float32 and logits.shape[0] >= 1
            and 1 <= scale <= 64 and 0 <= out_size[0] <= scale * logits.shape[1]
            and 0 <= out_size[1] <= scale * logits.shape[2] and min_area >= 0)


def test_fuzz_random_inputs_never_crash():
    """2000 random inputs, valid ones (run, consistent with the unfused pipeline's shapes) and
    corrupted ones (must raise the op's RuntimeError, never crash)."""
    rng = np.random.default_rng(5)
    num_valid = 0
    for _ in range(2000):
        shape = [int(s) for s in rng.integers(0, 6, 3)]
        shape[0] = max(shape[0], 1)
        logits = torch.from_numpy(rng.normal(0, 2, shape).astype(np.float32))
        scale = int(rng.integers(1, 6))
        out_size = [
            int(rng.integers(0, scale * shape[1] + 1)),
            int(rng.integers(0, scale * shape[2] + 1))
        ]
        min_area = int(rng.integers(0, 4))
        for _ in range(rng.integers(0, 3)):
            corruption = rng.integers(0, 6)
            if corruption == 0:
                logits = logits.reshape(-1) if rng.random() < 0.5 else logits[None]
            elif corruption == 1:
                logits = logits.to([torch.float64, torch.float16, torch.int32][rng.integers(0, 3)])
            elif corruption == 2:
                scale = int(rng.choice([0, -1, 65, 1000]))
            elif corruption == 3:
                out_size[int(rng.integers(0, 2))] = int(rng.choice([-1, 10**4]))
            elif corruption == 4:
                logits = logits[:0]
            else:
                min_area = -int(rng.integers(1, 1000))
        if is_valid(logits, scale, out_size, min_area):
            num_valid += 1
            result = progressive_scale_expansion_from_logits(logits, scale, out_size, min_area)
            assert tuple(result.labels.shape) == tuple(out_size)
            num_instances = int(result.labels.max()) if result.labels.numel() else 0
            assert len(result.areas) == len(result.boxes) == num_instances
            assert int(result.areas.sum()) == int((result.labels > 0).sum())
        else:
            with pytest.raises(RuntimeError, match='progressive_scale_expansion_from_logits: '):
                progressive_scale_expansion_from_logits(logits, scale, out_size, min_area)
    assert 500 < num_valid < 1800  # both branches are exercised


@pytest.mark.parametrize('probability', [0.2, 0.5, 0.7, 0.93])
def test_probability_threshold_matches_an_independent_reference(probability):
    """MMOCR's binarisation: kernel k = sigmoid(up_k) > p and sigmoid(up_0) > p, expanded by the
    pure-Python reference. The op compares logits with logit(p) instead, so a mask may differ
    only where sigmoid(up) is within float32 rounding of p; labels are identical whenever no
    pixel is that close, the common case (checked)."""
    rng = np.random.default_rng(int(probability * 100))
    identical = 0
    for _ in range(6):
        logits = word_logits(4, 10, 14, 4, rng, integer=False)
        out_size = (38, 56)
        probabilities = upsample(logits, 4, out_size).sigmoid()
        masks = probabilities > probability
        masks[1:] &= masks[:1]
        near = (probabilities - probability).abs() <= 1e-6
        threshold = logit_threshold(probability)
        for channel in range(4):  # K = 1, min_area = 0: labelled pixels = the thresholded map
            single = progressive_scale_expansion_from_logits(logits[channel:channel + 1], 4,
                                                             out_size, 0, threshold)
            differs = (single.labels > 0) != (probabilities[channel] > probability)
            assert not bool((differs & ~near[channel]).any())
        if bool(near.any()):
            continue
        identical += 1
        expected = reference_pse(masks.numpy(), 3)
        result = progressive_scale_expansion_from_logits(logits, 4, out_size, 3, threshold)
        np.testing.assert_array_equal(result.labels.numpy(), expected)
        assert result.areas.tolist() == [
            int((expected == i).sum()) for i in range(1,
                                                      expected.max() + 1)
        ]
    assert identical >= 4


def test_threshold_changes_the_masks_monotonically():
    """A higher threshold can only shrink the labelled area (no instance grows)."""
    rng = np.random.default_rng(3)
    logits = word_logits(1, 16, 20, 5, rng, integer=False)
    areas = [
        int((progressive_scale_expansion_from_logits(logits, 4, (64, 80), 0,
                                                     logit_threshold(p)).labels > 0).sum())
        for p in (0.1, 0.3, 0.5, 0.7, 0.9)
    ]
    assert areas == sorted(areas, reverse=True) and areas[0] > areas[-1] > 0


def test_nan_threshold_is_rejected():
    with pytest.raises(RuntimeError, match='logit_threshold should be a number, got nan'):
        progressive_scale_expansion_from_logits(torch.zeros(2, 4, 5), 4, (16, 20), 0, float('nan'))


@needs_opcheck
def test_opcheck_with_threshold():
    rng = np.random.default_rng(5)
    logits = word_logits(3, 12, 16, 4, rng, integer=False)
    op = torch.ops.pse_ext.progressive_scale_expansion_from_logits.default
    torch.library.opcheck(op, (logits, 4, 48, 64, 2, 1.25))
