"""Tests of ``mmpse_ext.ops.progressive_scale_expansion`` (the ``pse_ext`` op).

The CPU op must reproduce the official PSENet FIFO algorithm exactly (docs/deploy.md, "The
progressive scale expansion users have"); ``reference_pse`` below is an independent,
deliberately plain transcription of it.
"""
from collections import deque

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_features import needs_fake_kernels, needs_opcheck

from mmpse_ext.ops import PSEResult, progressive_scale_expansion

NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1))  # (dy, dx): up, down, left, right
DEVICES = ['cpu', pytest.param('cuda', marks=pytest.mark.needs_cuda)]


def reference_components(mask: np.ndarray, min_area: int) -> np.ndarray:
    """4-connected components of ``mask`` with >= min_area pixels, numbered 1..N in raster order
    of their first pixel; 0 elsewhere."""
    height, width = mask.shape
    component = np.zeros((height, width), np.int64)
    pixels_of = []
    for y in range(height):
        for x in range(width):
            if not mask[y, x] or component[y, x]:
                continue
            component[y, x] = len(pixels_of) + 1
            todo, pixels = [(y, x)], [(y, x)]
            while todo:
                cy, cx = todo.pop()
                for dy, dx in NEIGHBOURS:
                    ny, nx = cy + dy, cx + dx
                    if (0 <= ny < height and 0 <= nx < width and mask[ny, nx]
                            and not component[ny, nx]):
                        component[ny, nx] = component[y, x]
                        todo.append((ny, nx))
                        pixels.append((ny, nx))
            pixels_of.append(pixels)
    labels = np.zeros((height, width), np.int32)
    kept = 0
    for pixels in pixels_of:
        if len(pixels) >= min_area:
            kept += 1
            for y, x in pixels:
                labels[y, x] = kept
    return labels


def reference_pse(kernels: np.ndarray, min_area: int, neighbours=NEIGHBOURS) -> np.ndarray:
    """Official PSENet progressive scale expansion, transcribed literally (FIFO queues)."""
    kernels = kernels.astype(bool)
    num_levels, height, width = kernels.shape
    labels = reference_components(kernels[-1], min_area)
    queue = deque(zip(*np.nonzero(labels)))  # all seed pixels, raster order
    for level in range(num_levels - 2, -1, -1):
        next_queue = deque()
        while queue:
            y, x = queue.popleft()
            expanded = False
            for dy, dx in neighbours:
                ny, nx = y + dy, x + dx
                if not (0 <= ny < height and 0 <= nx < width):
                    continue
                if not kernels[level, ny, nx] or labels[ny, nx] > 0:
                    continue
                labels[ny, nx] = labels[y, x]
                queue.append((ny, nx))
                expanded = True
            if not expanded:
                next_queue.append((y, x))
        queue = next_queue
    return labels


def layer_synchronous_pse(kernels: np.ndarray, min_area: int) -> np.ndarray:
    """Model of the CUDA kernel's schedule: each level's queue is processed one BFS layer at a
    time against a snapshot of the labels; every pixel goes to the smallest (position, direction)
    slot offering it, winners form the next layer in slot order, and entries that won nothing are
    carried. Unlike ``reference_pse``, nothing is labelled while a layer is being processed."""
    kernels = kernels.astype(bool)
    num_levels, height, width = kernels.shape
    labels = reference_components(kernels[-1], min_area)
    queue = list(zip(*np.nonzero(labels)))
    for level in range(num_levels - 2, -1, -1):
        begin, end, carried = 0, len(queue), []
        while end > begin:
            claims = {}
            for t, (y, x) in enumerate(queue[begin:end]):
                for d, (dy, dx) in enumerate(NEIGHBOURS):
                    ny, nx = y + dy, x + dx
                    if (0 <= ny < height and 0 <= nx < width and kernels[level, ny, nx]
                            and labels[ny, nx] == 0):
                        claims[(ny, nx)] = min(claims.get((ny, nx), 4 * t + d), 4 * t + d)
            winners = sorted((slot, pixel) for pixel, slot in claims.items())
            won_by = {slot // 4 for slot, _ in winners}
            for t in range(end - begin):
                if t not in won_by:
                    carried.append(queue[begin + t])
            for slot, (ny, nx) in winners:
                labels[ny, nx] = labels[queue[begin + slot // 4]]
            queue.extend(pixel for _, pixel in winners)
            begin, end = end, len(queue)
        queue = carried
    return labels


def reference_statistics(labels: np.ndarray, score: np.ndarray):
    """Areas, float64 score sums and inclusive x/y boxes of labels 1..max, with numpy."""
    areas, sums, boxes = [], [], []
    for instance in range(1, int(labels.max(initial=0)) + 1):
        ys, xs = np.nonzero(labels == instance)
        areas.append(len(ys))
        sums.append(score[ys, xs].astype(np.float64).sum())
        boxes.append([xs.min(), ys.min(), xs.max(), ys.max()])
    return (np.array(areas, np.int64), np.array(sums, np.float64),
            np.array(boxes, np.int32).reshape(-1, 4))


def run_op(kernels: np.ndarray, score: np.ndarray, min_area: int,
           device: str = 'cpu') -> PSEResult:
    result = progressive_scale_expansion(
        torch.from_numpy(kernels).to(device),
        torch.from_numpy(score).to(device), min_area)
    return PSEResult(*(t.cpu() for t in result))


def assert_matches_reference(kernels: np.ndarray, score: np.ndarray, min_area: int,
                             device: str = 'cpu') -> PSEResult:
    result = run_op(kernels, score, min_area, device)
    expected = reference_pse(kernels, min_area)
    np.testing.assert_array_equal(result.labels.numpy(), expected)
    areas, sums, boxes = reference_statistics(expected, score)
    np.testing.assert_array_equal(result.areas.numpy(), areas)
    np.testing.assert_allclose(result.score_sums.numpy(), sums, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(result.boxes.numpy(), boxes)
    return result


def word_like_kernels(height: int, width: int, num_words: int, num_levels: int,
                      rng: np.random.Generator, touching: bool = True) -> np.ndarray:
    """Nested kernels of rotated rectangles shrunk per level like PSENet's targets (ratio 1 ->
    0.4); with ``touching`` every other word is placed right next to the previous one."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    kernels = np.zeros((num_levels, height, width), np.uint8)
    previous = None
    for _ in range(num_words):
        half_w = rng.uniform(4, max(5, width / 6))
        half_h = rng.uniform(2, max(3, height / 16))
        angle = rng.uniform(-0.4, 0.4)
        if touching and previous is not None and rng.random() < 0.5:
            cx, cy = previous[0] + previous[1] + half_w, previous[2]
        else:
            cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        previous = (cx, half_w, cy)
        c, s = np.cos(angle), np.sin(angle)
        u = (xs - cx) * c + (ys - cy) * s
        v = -(xs - cx) * s + (ys - cy) * c
        for level in range(num_levels):
            ratio = 1.0 - 0.6 * level / max(1, num_levels - 1)
            shrink = (1 - ratio) * min(half_w, half_h)
            inside = (np.abs(u) <= half_w - shrink) & (np.abs(v) <= half_h - shrink)
            kernels[level] |= inside
    return kernels


@st.composite
def pse_inputs(draw):
    """Random kernels (independent random masks or nested ones), score and min_area."""
    num_levels = draw(st.sampled_from([1, 2, 3, 7]))
    height = draw(st.integers(1, 14))
    width = draw(st.integers(1, 14))
    shape = (num_levels, height, width)
    if draw(st.booleans()):
        kernels = draw(hnp.arrays(np.bool_, shape))
    else:
        # Nested like real predictions: level k is inside level k - 1.
        kernels = np.logical_and.accumulate(draw(hnp.arrays(np.bool_, shape)), axis=0)
    score = draw(hnp.arrays(np.float32, (height, width),
                            elements=st.floats(0, 1, width=32)))
    min_area = draw(st.integers(0, 4))
    return kernels.astype(np.uint8), score, min_area


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pse_inputs())
def test_cpu_matches_reference_on_random_masks(inputs):
    kernels, score, min_area = inputs
    assert_matches_reference(kernels, score, min_area)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pse_inputs())
def test_layer_synchronous_schedule_of_the_cuda_kernel_equals_fifo(inputs):
    """The CUDA kernel's claim to exactness, checked on its schedule (in Python) on CPU CI."""
    kernels, _, min_area = inputs
    np.testing.assert_array_equal(layer_synchronous_pse(kernels, min_area),
                                  reference_pse(kernels, min_area))


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
    np.testing.assert_array_equal(labels,
                                  np.repeat(np.array([[1] * 10 + [2] * 10]), 3, axis=0))
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


@pytest.mark.parametrize('order', [
    ((1, 0), (-1, 0), (0, -1), (0, 1)),  # down before up
    ((0, -1), (-1, 0), (1, 0), (0, 1)),  # left first
])
def test_neighbour_order_is_the_reference_one(order):
    # Inputs on which another neighbour order gives another partition, so these tests see it.
    rng = np.random.default_rng(49)
    word_like_kernels(24, 24, 4, 3, rng)
    cases = [word_like_kernels(24, 24, 4, 7, rng),
             np.array([[[1, 0], [1, 1], [1, 1]],
                       [[0, 0], [1, 0], [1, 1]],
                       [[0, 0], [0, 1], [0, 0]]], np.uint8)]
    kernels = next(k for k in cases if not np.array_equal(
        reference_pse(k, 0), reference_pse(k, 0, neighbours=order)))
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
        torch.from_numpy(big)[:, ::2, ::2], torch.from_numpy(big_score)[::2, ::2], 3)
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
    np.testing.assert_array_equal(layer_synchronous_pse(kernels, 4), result.labels.numpy())


@needs_opcheck
@pytest.mark.parametrize('device', DEVICES)
def test_opcheck(device):
    rng = np.random.default_rng(4)
    kernels = torch.from_numpy(word_like_kernels(24, 32, 4, 3, rng)).to(device)
    score = torch.rand(24, 32, generator=torch.Generator().manual_seed(0)).to(device)
    op = torch.ops.pse_ext.progressive_scale_expansion.default
    torch.library.opcheck(op, (kernels, score, 2))
    torch.library.opcheck(op, (kernels.bool(), score, 0))
    torch.library.opcheck(op, (kernels[:, :0], score[:0], 0))


@needs_fake_kernels
def test_fake_kernel_gives_dynamic_instance_count():
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import ShapeEnv
    with FakeTensorMode(shape_env=ShapeEnv()):
        labels, areas, sums, boxes = progressive_scale_expansion(
            torch.zeros(7, 16, 24, dtype=torch.uint8), torch.zeros(16, 24), 3)
    assert labels.shape == (16, 24) and labels.dtype == torch.int32
    assert isinstance(areas.shape[0], torch.SymInt)
    assert str(boxes.shape[0]) == str(areas.shape[0]) == str(sums.shape[0])
    assert (areas.dtype, sums.dtype, boxes.dtype) == (torch.int64, torch.float64, torch.int32)


def post_process(logits: torch.Tensor, min_area: int):
    """A PSENet-style use: kernels from logits masked by the text map, mean score per instance."""
    kernels = (logits > 0) & (logits[0:1] > 0)
    result = progressive_scale_expansion(kernels, torch.sigmoid(logits[0]), min_area)
    return result.labels, result.areas, result.score_sums / result.areas


class PostProcess(torch.nn.Module):

    def forward(self, logits: torch.Tensor):
        return post_process(logits, 2)


@needs_fake_kernels
def test_traces_under_torch_compile_and_export():
    logits = torch.randn(7, 32, 48, generator=torch.Generator().manual_seed(0))
    expected = post_process(logits, 2)
    assert len(expected[1]) > 0
    with torch._dynamo.config.patch(capture_dynamic_output_shape_ops=True):
        compiled = torch.compile(post_process, backend='aot_eager', fullgraph=True)
        for got, want in zip(compiled(logits, 2), expected):
            assert torch.equal(got, want)
    exported = torch.export.export(PostProcess(), (logits, ))
    assert 'pse_ext.progressive_scale_expansion' in exported.graph_module.code
    for got, want in zip(exported.module()(logits), expected):
        assert torch.equal(got, want)


BAD_INPUTS = [
    # (kernels, score, min_area, message fragment naming the argument and the bad value)
    (torch.zeros(4, 5, dtype=torch.uint8), torch.zeros(4, 5), 0, 'got 2D'),
    (torch.zeros(1, 2, 4, 5, dtype=torch.uint8), torch.zeros(4, 5), 0, 'got 4D'),
    (torch.zeros(2, 4, 5), torch.zeros(4, 5), 0, 'bool or uint8, got Float'),
    (torch.zeros(2, 4, 5, dtype=torch.int32), torch.zeros(4, 5), 0, 'got Int'),
    (torch.zeros(0, 4, 5, dtype=torch.uint8), torch.zeros(4, 5), 0, 'K = 0'),
    (torch.zeros(2, 4, 5, dtype=torch.uint8), torch.zeros(4, 5), -1,
     'min_area should be >= 0, got -1'),
    (torch.zeros(2, 4, 5, dtype=torch.uint8), torch.zeros(5, 4), 0, 'got [5, 4]'),
    (torch.zeros(2, 4, 5, dtype=torch.uint8), torch.zeros(4, 5, 1), 0, 'score should be a 2D'),
    (torch.zeros(2, 4, 5, dtype=torch.uint8), torch.zeros(4, 5, dtype=torch.float64), 0,
     'float32, got Double'),
]


@pytest.mark.parametrize('kernels,score,min_area,message', BAD_INPUTS)
def test_bad_inputs_raise_with_the_offending_value(kernels, score, min_area, message):
    with pytest.raises(RuntimeError, match='progressive_scale_expansion') as error:
        progressive_scale_expansion(kernels, score, min_area)
    assert message in str(error.value)


def is_valid(kernels: torch.Tensor, score: torch.Tensor, min_area: int) -> bool:
    return (kernels.dim() == 3 and kernels.dtype in (torch.bool, torch.uint8)
            and kernels.shape[0] >= 1 and score.dim() == 2 and score.dtype == torch.float32
            and tuple(score.shape) == tuple(kernels.shape[1:]) and min_area >= 0)


def random_fuzz_case(rng: np.random.Generator):
    """A valid input (K, H, W in 0..5, sometimes non-contiguous) with 0-2 random corruptions."""
    shape = [int(s) for s in rng.integers(0, 6, 3)]
    shape[0] = max(shape[0], 1)
    kernels = torch.from_numpy(rng.integers(0, 2, shape, dtype=np.uint8))
    if rng.random() < 0.5:
        kernels = kernels.bool()
    score = torch.from_numpy(rng.random(shape[1:], dtype=np.float32))
    if rng.random() < 0.3:
        kernels = kernels.transpose(1, 2).contiguous().transpose(1, 2)
        score = score.T.contiguous().T
    min_area = int(rng.integers(0, 4))
    for _ in range(rng.integers(0, 3)):
        corruption = rng.integers(0, 7)
        if corruption == 0:  # wrong kernels rank
            kernels = kernels.reshape(-1) if rng.random() < 0.5 else kernels[None]
        elif corruption == 1:  # wrong kernels dtype
            kernels = kernels.to([torch.float32, torch.int32, torch.int8, torch.float64][
                rng.integers(0, 4)])
        elif corruption == 2:  # K = 0
            kernels = kernels[:0]
        elif corruption == 3:  # mismatched score shape
            score = torch.rand(int(rng.integers(0, 6)), int(rng.integers(0, 6)))
        elif corruption == 4:  # wrong score dtype
            score = score.to([torch.float64, torch.float16, torch.int32, torch.uint8][
                rng.integers(0, 4)])
        elif corruption == 5:  # wrong score rank
            score = score.reshape(-1) if rng.random() < 0.5 else score[None]
        else:
            min_area = -int(rng.integers(1, 1000))
    return kernels, score, min_area


def test_fuzz_random_inputs_never_crash():
    """3000 random inputs: valid ones run and give consistent outputs, invalid ones raise a
    RuntimeError from the op's checks (never a crash or a wrong-shaped result)."""
    rng = np.random.default_rng(5)
    num_valid = 0
    for _ in range(3000):
        kernels, score, min_area = random_fuzz_case(rng)
        if is_valid(kernels, score, min_area):
            num_valid += 1
            result = progressive_scale_expansion(kernels, score, min_area)
            assert result.labels.shape == kernels.shape[1:]
            num_instances = int(result.labels.max()) if result.labels.numel() else 0
            assert len(result.areas) == len(result.boxes) == num_instances
            assert int(result.areas.sum()) == int((result.labels > 0).sum())
        else:
            with pytest.raises(RuntimeError, match='progressive_scale_expansion: '):
                progressive_scale_expansion(kernels, score, min_area)
    assert 500 < num_valid < 2500  # both branches are exercised


@needs_fake_kernels
@pytest.mark.parametrize('kernels,score,min_area,message', BAD_INPUTS)
def test_bad_inputs_raise_in_the_fake_kernel_too(kernels, score, min_area, message):
    with pytest.raises(RuntimeError, match='progressive_scale_expansion'):
        progressive_scale_expansion(kernels.to('meta'), score.to('meta'), min_area)


@needs_fake_kernels
def test_mixed_devices_raise_on_cpu_only_machines_too():
    kernels = torch.ones(2, 3, 3, dtype=torch.uint8)
    with pytest.raises(RuntimeError, match='same device'):
        progressive_scale_expansion(kernels, torch.zeros(3, 3, device='meta'), 0)


@pytest.mark.needs_cuda
def test_mixed_devices_raise():
    kernels = torch.ones(2, 3, 3, dtype=torch.uint8)
    with pytest.raises(RuntimeError, match='same device'):
        progressive_scale_expansion(kernels.cuda(), torch.zeros(3, 3), 0)
    with pytest.raises(RuntimeError, match='same device'):
        progressive_scale_expansion(kernels, torch.zeros(3, 3).cuda(), 0)


@pytest.mark.needs_cuda
@settings(max_examples=200, deadline=None)
@given(pse_inputs())
def test_cuda_matches_cpu_on_random_masks(inputs):
    """The CUDA kernel replays the CPU FIFO order level by level (a pixel is claimed by its
    earliest neighbour in queue order), so the partition must be identical: no pixel, not even
    one equidistant from two seeds, may differ. Score sums may differ by float64 rounding only
    (atomic accumulation order)."""
    kernels, score, min_area = inputs
    cpu = run_op(kernels, score, min_area, 'cpu')
    cuda = run_op(kernels, score, min_area, 'cuda')
    assert torch.equal(cuda.labels, cpu.labels)
    assert torch.equal(cuda.areas, cpu.areas)
    assert torch.equal(cuda.boxes, cpu.boxes)
    torch.testing.assert_close(cuda.score_sums, cpu.score_sums, rtol=1e-12, atol=1e-9)


@pytest.mark.needs_cuda
@pytest.mark.parametrize('num_levels', [1, 2, 7, 9])
def test_cuda_matches_cpu_on_word_like_images(num_levels):
    rng = np.random.default_rng(num_levels)
    for _ in range(5):
        kernels = word_like_kernels(200, 300, 40, num_levels, rng)
        score = rng.random((200, 300), dtype=np.float32)
        cpu = run_op(kernels, score, 4, 'cpu')
        cuda = run_op(kernels, score, 4, 'cuda')
        assert torch.equal(cuda.labels, cpu.labels)
        assert torch.equal(cuda.areas, cpu.areas) and torch.equal(cuda.boxes, cpu.boxes)
        torch.testing.assert_close(cuda.score_sums, cpu.score_sums, rtol=1e-12, atol=1e-9)
