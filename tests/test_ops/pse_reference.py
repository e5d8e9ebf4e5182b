"""Plain references for the ``pse_ext`` op tests (imported by the tests in this folder).

``reference_pse`` is an independent, deliberately plain transcription of the official PSENet
FIFO algorithm (docs/deploy.md, "The progressive scale expansion users have");
``layer_synchronous_pse`` models the CUDA kernel's schedule; ``word_like_kernels`` and
``pse_inputs`` make test inputs.
"""
from collections import deque

import numpy as np
import pytest
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

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
    return (np.array(areas, np.int64), np.array(sums,
                                                np.float64), np.array(boxes,
                                                                      np.int32).reshape(-1, 4))


def run_op(kernels: np.ndarray, score: np.ndarray, min_area: int, device: str = 'cpu') -> PSEResult:
    """The op on numpy inputs (moved to ``device``); the result back on the CPU."""
    result = progressive_scale_expansion(
        torch.from_numpy(kernels).to(device),
        torch.from_numpy(score).to(device), min_area)
    return PSEResult(*(t.cpu() for t in result))


def assert_matches_reference(kernels: np.ndarray,
                             score: np.ndarray,
                             min_area: int,
                             device: str = 'cpu') -> PSEResult:
    """Run the op and assert labels, areas, boxes and score sums equal the reference's."""
    result = run_op(kernels, score, min_area, device)
    expected = reference_pse(kernels, min_area)
    np.testing.assert_array_equal(result.labels.numpy(), expected)
    areas, sums, boxes = reference_statistics(expected, score)
    np.testing.assert_array_equal(result.areas.numpy(), areas)
    np.testing.assert_allclose(result.score_sums.numpy(), sums, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(result.boxes.numpy(), boxes)
    return result


def word_like_kernels(height: int,
                      width: int,
                      num_words: int,
                      num_levels: int,
                      rng: np.random.Generator,
                      touching: bool = True) -> np.ndarray:
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
    score = draw(hnp.arrays(np.float32, (height, width), elements=st.floats(0, 1, width=32)))
    min_area = draw(st.integers(0, 4))
    return kernels.astype(np.uint8), score, min_area
