"""Benchmark the pse_ext progressive scale expansion op against what users have instead.

Inputs: K = 7 nested kernels of word-like rotated boxes (shrunk like PSENet's targets, ratios
1.0 ... 0.4), a share of the words placed so that their text regions touch (see make_inputs).
For each size the script prints the median time per call, one thread, of

* our CPU op (wall clock and thread CPU time);
* mmcv's ``contour_expand``, called as MMOCR 1.0.1's ``PSEPostprocessor`` calls it (seeds from
  ``cv2.connectedComponents``, then the op), the implementation MMOCR users run; it reads the
  text map at every level (docs/deploy.md), so its labels differ from the reference for K >= 3
  and the script says by how many pixels;
* the pure-Python reference: the official FIFO algorithm on flat lists (run fewer times);

and the floor: one pass over the K*H*W input (a copy). It checks that the op gives the
reference's label map, and prints PASS/FAIL per target. With a GPU, the CUDA op is timed with
CUDA events after warm-up and compared to the CPU op.

Usage: python tools/analysis_tools/benchmark_pse.py [--repeats 30] [--baseline-repeats 1] [--seed 0]
"""
import argparse
import os
import statistics
import time
from collections import deque

import cv2
import numpy as np
import torch

from mmpse_ext.ops import progressive_scale_expansion

# (height, width, number of words, CPU target in ms or None)
CASES = [(736, 1312, 50, 5.0), (736, 1312, 200, None), (1280, 2240, 100, 15.0)]
NUM_LEVELS = 7
MIN_AREA = 16
CUDA_SPEEDUP_TARGET = 10.0


def word_box(center, half_w: float, half_h: float, angle: float, shape):
    """Window (y0, y1, x0, x1) around a rotated box and its (u, v) box coordinates there."""
    height, width = shape
    radius = np.hypot(half_w, half_h) + 1
    x0, x1 = max(0, int(center[0] - radius)), min(width, int(center[0] + radius) + 1)
    y0, y1 = max(0, int(center[1] - radius)), min(height, int(center[1] + radius) + 1)
    x1, y1 = max(x0, x1), max(y0, y1)  # empty window when the box is off the image
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    c, s = np.cos(angle), np.sin(angle)
    u = (xs - center[0]) * c + (ys - center[1]) * s
    v = -(xs - center[0]) * s + (ys - center[1]) * c
    return (y0, y1, x0, x1), u, v


def make_inputs(height: int, width: int, num_words: int, seed: int):
    """Word-like kernels [7, H, W] uint8 and a score map [H, W] float32.

    Words are rotated boxes 12-32 px tall at 736 px (scaled with the height), 1.5-5 times as wide,
    shrunk per level by PSENet's offset d = A(1 - r^2)/L with r = 1 ... 0.4. About 40 % continue
    the previous word along its direction with a shared edge (touching text regions); the others
    are placed where they do not overlap existing text (up to 50 tries each).
    """
    rng = np.random.default_rng(seed)
    kernels = np.zeros((NUM_LEVELS, height, width), np.uint8)
    score = rng.uniform(0.0, 0.3, (height, width)).astype(np.float32)
    scale = height / 736
    previous = None
    for _ in range(num_words):
        half_h = rng.uniform(6, 16) * scale
        half_w = half_h * rng.uniform(1.5, 5)
        for attempt in range(50):
            if previous is not None and attempt == 0 and rng.random() < 0.4:
                (px, py), p_half_w, angle = previous
                step = p_half_w + half_w  # the boxes share an edge
                center = (px + step * np.cos(angle), py + step * np.sin(angle))
                touching = True
            else:
                angle = rng.uniform(-0.5, 0.5)
                center = (rng.uniform(0, width), rng.uniform(0, height))
                touching = False
            (y0, y1, x0, x1), u, v = word_box(center, half_w, half_h, angle, (height, width))
            text = (np.abs(u) <= half_w) & (np.abs(v) <= half_h)
            if text.any() and (touching or not (kernels[0, y0:y1, x0:x1] & text).any()):
                break
        area, perimeter = 4 * half_w * half_h, 4 * (half_w + half_h)
        for level in range(NUM_LEVELS):
            ratio = 1.0 - 0.6 * level / (NUM_LEVELS - 1)
            offset = area * (1 - ratio**2) / perimeter
            inside = (np.abs(u) <= half_w - offset) & (np.abs(v) <= half_h - offset)
            kernels[level, y0:y1, x0:x1] |= inside
        window = score[y0:y1, x0:x1]
        window[text] = rng.uniform(0.85, 1.0, int(text.sum()))
        previous = (center, half_w, angle)
    kernels &= kernels[0:1]  # like the post-processor: kernels masked by the text map
    return torch.from_numpy(kernels), torch.from_numpy(score)


def mmcv_pse(kernels: np.ndarray, min_area: int) -> np.ndarray:
    """mmcv's ``contour_expand`` as MMOCR 1.0.1's ``PSEPostprocessor`` uses it."""
    from mmcv.ops import contour_expand
    num_labels, seeds = cv2.connectedComponents(kernels[-1], connectivity=4)
    return np.array(contour_expand(kernels, seeds, min_area, num_labels), np.int32)


def baseline_pse(kernels: np.ndarray, min_area: int) -> np.ndarray:
    """Pure-Python reference: the official algorithm on flat lists (seeds by a BFS labelling)."""
    num_levels, height, width = kernels.shape
    size = height * width
    planes = [kernels[level].reshape(-1).tolist() for level in range(num_levels)]
    labels = [0] * size

    def neighbours(i):
        y, x = divmod(i, width)
        if y > 0:
            yield i - width
        if y < height - 1:
            yield i + width
        if x > 0:
            yield i - 1
        if x < width - 1:
            yield i + 1

    smallest, component, count = planes[-1], [0] * size, 0
    for start in np.flatnonzero(kernels[-1]).tolist():
        if component[start]:
            continue
        count += 1
        component[start], todo, pixels = count, [start], [start]
        while todo:
            for j in neighbours(todo.pop()):
                if smallest[j] and not component[j]:
                    component[j] = count
                    todo.append(j)
                    pixels.append(j)
        if len(pixels) < min_area:
            for j in pixels:
                component[j] = -1
    kept = sorted({c for c in component if c > 0})
    renumber = {c: i + 1 for i, c in enumerate(kept)}
    queue = deque()
    for i in np.flatnonzero(kernels[-1]).tolist():
        if component[i] > 0:
            labels[i] = renumber[component[i]]
            queue.append(i)
    for level in range(num_levels - 2, -1, -1):
        plane, next_queue = planes[level], deque()
        while queue:
            i = queue.popleft()
            expanded = False
            for j in neighbours(i):
                if plane[j] and not labels[j]:
                    labels[j] = labels[i]
                    queue.append(j)
                    expanded = True
            if not expanded:
                next_queue.append(i)
        queue = next_queue
    return np.array(labels, np.int32).reshape(height, width)


def median_ms(fn, repeats: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append((clock() - start) * 1e3)
    return statistics.median(times)


def cuda_median_ms(fn, repeats: int) -> float:
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=30)
    parser.add_argument('--baseline-repeats', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with_cuda = torch.cuda.is_available()
    print(f'torch {torch.__version__}, 1 CPU thread, load average {os.getloadavg()}, '
          f'CUDA: {torch.cuda.get_device_name() if with_cuda else "not available"}')
    failures = 0
    for height, width, num_words, target_ms in CASES:
        kernels, score = make_inputs(height, width, num_words, args.seed)
        result = progressive_scale_expansion(kernels, score, MIN_AREA)  # warm-up
        op_ms = median_ms(lambda: progressive_scale_expansion(kernels, score, MIN_AREA),
                          args.repeats)
        # CPU time of this thread: what the op costs when other processes compete for the cores.
        op_cpu_ms = median_ms(
            lambda: progressive_scale_expansion(kernels, score, MIN_AREA),
            args.repeats,
            clock=time.thread_time)
        floor_ms = median_ms(lambda: kernels.clone(), args.repeats)
        kernels_np = np.ascontiguousarray(kernels.numpy())
        mmcv_labels = mmcv_pse(kernels_np, MIN_AREA)
        mmcv_ms = median_ms(lambda: mmcv_pse(kernels_np, MIN_AREA), args.repeats)
        baseline_labels = None
        start = time.perf_counter()
        for _ in range(args.baseline_repeats):
            baseline_labels = baseline_pse(kernels.numpy(), MIN_AREA)
        baseline_ms = (time.perf_counter() - start) * 1e3 / args.baseline_repeats
        identical = np.array_equal(baseline_labels, result.labels.numpy())
        text_share = float(kernels[0].float().mean())
        print(f'\n{height}x{width}, K={NUM_LEVELS}, {num_words} words -> {len(result.areas)} '
              f'instances, text {100 * text_share:.1f} % of pixels')
        print(f'  CPU op          {op_ms:9.3f} ms  (median of {args.repeats}; thread CPU time '
              f'{op_cpu_ms:.3f} ms)')
        print(f'  floor (1 pass)  {floor_ms:9.3f} ms  (copy of the K*H*W input; op = '
              f'{op_ms / floor_ms:.1f}x floor)')
        mmcv_differ = int((mmcv_labels != baseline_labels).sum())
        print(f'  mmcv (MMOCR)    {mmcv_ms:9.3f} ms  (contour_expand + seeding, '
              f'{mmcv_ms / op_ms:.1f}x the op; {int(mmcv_labels.max())} instances, labels differ '
              f'from the reference at {mmcv_differ} pixels)')
        print(f'  pure-Python ref {baseline_ms:9.1f} ms  (mean of {args.baseline_repeats}; op is '
              f'{baseline_ms / op_ms:.0f}x faster; same labels: {identical})')
        if not identical:
            failures += 1
            print('  FAIL: the op and the baseline disagree')
        if target_ms is not None:
            ok = op_ms <= target_ms
            failures += not ok
            print(f'  target CPU <= {target_ms:g} ms: {"PASS" if ok else "FAIL"} (wall clock); '
                  f'{"PASS" if op_cpu_ms <= target_ms else "FAIL"} (thread CPU time)')
        if with_cuda:
            kernels_cuda, score_cuda = kernels.cuda(), score.cuda()
            cuda_result = progressive_scale_expansion(kernels_cuda, score_cuda, MIN_AREA)
            same = torch.equal(cuda_result.labels.cpu(), result.labels)
            cuda_ms = cuda_median_ms(
                lambda: progressive_scale_expansion(kernels_cuda, score_cuda, MIN_AREA),
                args.repeats)
            speedup = op_ms / cuda_ms
            ok = speedup >= CUDA_SPEEDUP_TARGET and same
            failures += not ok
            print(f'  CUDA op         {cuda_ms:9.3f} ms  ({speedup:.1f}x the CPU op; same labels: '
                  f'{same}); target >= {CUDA_SPEEDUP_TARGET:g}x: {"PASS" if ok else "FAIL"}')
    load = os.getloadavg()[0]
    print(f'\nload average after: {os.getloadavg()}')
    if load > (os.cpu_count() or 1):
        print(f'note: load {load:.1f} > {os.cpu_count()} cores: wall-clock times are inflated by '
              'other processes; the thread CPU times are the better estimate of an idle machine')
    return 1 if failures else 0


if __name__ == '__main__':
    raise SystemExit(main())
