"""Benchmark PSEPostprocessor: K = 7 logits at 1/4 resolution → polygons.

Synthetic word-like instances (text lines of rotated-rectangle words, some touching, 7 kernel
levels, blurred logits) at 1/4 of 736×1312 (50 and 200 words) and of 1280×2240 (100 words).
The timed path is the whole decode: ×4 bilinear upsampling to the input size, thresholds,
the pse_ext expansion, area/score filter, `quad` or `poly` polygons.

CPU section (one thread): the fused op `progressive_scale_expansion_from_logits` path against a
naive full-resolution implementation (all 7 maps upsampled, one full-image mask per instance, as
PaddleOCR's `generate_box`), timed in the same run.

GPU section (when CUDA is available): the two decode paths for CUDA logits, in the same run,
- `host_expand`: upsample + threshold + bit-pack on the GPU, copy one byte per pixel, expand on
  the CPU (`progressive_scale_expansion_packed`);
- `device_bfs`: everything on the GPU with the CUDA expansion kernel (if the build has it);
and, as references, the CPU fused path on the logits copied to the host, and the expansion op
alone on CUDA masks against the CPU op on the same masks. Ratios are printed against
`host_expand` (the default) and against the CPU op.

    python tools/analysis_tools/benchmark_postprocess.py [--repeats 15] [--sections cpu,gpu] \
        [--json out.json]
"""
import argparse
import json
import os
import statistics
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

TARGET_MS = {(736, 1312): 10.0, (1280, 2240): 40.0, (192, 320): 5.0}
CASES = [((736, 1312), 50), ((736, 1312), 200), ((1280, 2240), 100)]
QUICK_CASES = [((192, 320), 10)]  # --quick: one small map, for dry runs of the script
KERNELS = 7


def synthetic_logits(input_size, num_words, seed=0):
    """Logits [7, H/4, W/4] float32 of `num_words` words laid out in text lines.

    Words are rectangles rotated by up to ±8°, 30 % of them touching their left neighbour
    (their text regions merge, their kernels stay apart); kernel i shrinks each side by
    i · 6 % of the word height. Inside = +6, outside = -6, blurred (σ = 0.8 px at 1/4).
    """
    rng = np.random.default_rng(seed)
    height, width = input_size[0] // 4, input_size[1] // 4
    masks = np.zeros((KERNELS, height, width), np.uint8)
    area_per_word = height * width * 0.35 / num_words
    word_h = max(4.0, np.sqrt(area_per_word / 4.0))
    placed, y = 0, 2.0
    while placed < num_words:
        line_h = word_h * rng.uniform(0.8, 1.2)
        if y + line_h + 2 > height:
            y = 2.0 + rng.uniform(0, word_h / 2)  # wrap: a new set of lines, slightly offset
        x = rng.uniform(2, 2 + word_h)
        while placed < num_words:
            word_w = line_h * rng.uniform(2.0, 6.0)
            if x + word_w + 2 > width:
                break
            angle = rng.uniform(-8, 8)
            center = (x + word_w / 2, y + line_h / 2)
            for level in range(KERNELS):
                shrink = level * 0.06 * line_h * 2
                box = cv2.boxPoints((center, (max(word_w - shrink, 1.0), max(line_h - shrink,
                                                                             1.0)), angle))
                cv2.fillPoly(masks[level], [np.round(box).astype(np.int32)], 1)
            placed += 1
            touching = rng.random() < 0.3
            x += word_w + (0.0 if touching else rng.uniform(1.0, line_h))
        y += line_h * rng.uniform(1.4, 1.8)
    logits = np.where(masks > 0, 6.0, -6.0).astype(np.float32)
    logits = np.stack([cv2.GaussianBlur(level, (0, 0), 0.8) for level in logits])
    return torch.from_numpy(logits)


def naive_decode(logits, text_repr_type, min_area=16, score_threshold=0.85):
    """Baseline: full upsampling, one full-image mask per instance (PaddleOCR style)."""
    from mmpse_ext.ops import progressive_scale_expansion
    up = F.interpolate(logits[None], scale_factor=4, mode='bilinear', align_corners=False)[0]
    score = up[0].sigmoid()
    kernels = (up > 0) & (up[:1] > 0)
    labels = progressive_scale_expansion(kernels, score, min_area).labels.numpy()
    score = score.numpy()
    polygons, scores = [], []
    for label in range(1, int(labels.max()) + 1):
        mask = labels == label
        ys, xs = np.nonzero(mask)
        if len(xs) < min_area:
            continue
        mean = float(score[mask].mean())
        if mean < score_threshold:
            continue
        if text_repr_type == 'quad':
            points = cv2.boxPoints(cv2.minAreaRect(np.stack([xs, ys], 1).astype(np.int32)))
        else:
            contours, _ = cv2.findContours(
                mask.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            points = contours[0].reshape(-1, 2).astype(np.float32)
        polygons.append(points.reshape(-1))
        scores.append(mean)
    return polygons, scores


def median_ms(fn, repeats):
    """Median wall-clock and median CPU (process) time of `fn` in ms, after one warm-up.

    On a shared machine the wall time includes time slices lost to other processes; the CPU
    time does not, so both are reported.
    """
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start_wall) * 1e3)
        cpu.append((time.process_time() - start_cpu) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def stage_breakdown(postprocessor, logits, input_size, repeats):
    """Median CPU ms of each stage of PSEPostprocessor.decode on CPU (same calls, timed apart)."""
    from mmpse_ext.ops import progressive_scale_expansion_from_logits
    min_area = postprocessor.min_kernel_area
    result = progressive_scale_expansion_from_logits(logits, 4, input_size, min_area)
    boxes = result.boxes.numpy().astype(np.int64).tolist()

    def contours():
        crops = postprocessor._instance_crops(result.labels, boxes)
        for index, crop in enumerate(crops):
            postprocessor._mask_to_polygon((crop == index + 1).view(np.uint8), boxes[index][0],
                                           boxes[index][1])

    stages = {
        'fused op (upsample+threshold+pse+scores)':
        lambda: progressive_scale_expansion_from_logits(logits, 4, input_size, min_area),
        'crops+contours (all instances)':
        contours,
    }
    return {name: median_ms(fn, repeats)[1] for name, fn in stages.items()}


def median_cuda_ms(fn, repeats):
    """Median wall-clock ms of `fn` with the GPU synchronised before and after, after one
    warm-up."""
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def gpu_section(repeats, cases):
    """Time the CUDA decode paths against each other and the CPU op; returns the rows."""
    from mmpse_ext.models.postprocessors import PSEPostprocessor
    from mmpse_ext.models.postprocessors.kernel_masks import (upsampled_kernel_masks,
                                                              upsampled_text_score)
    from mmpse_ext.ops import extension, progressive_scale_expansion
    has_cuda_kernel = extension.has_kernel('progressive_scale_expansion', 'cuda')
    print(f'GPU {torch.cuda.get_device_name(0)}, CUDA expansion kernel in this build: '
          f'{has_cuda_kernel}')
    rows = []
    for input_size, num_words in cases:
        logits = synthetic_logits(input_size, num_words)
        logits_gpu = logits.cuda()
        host = PSEPostprocessor(cuda_decode='host_expand')
        cpu_polygons = host.decode(logits, input_size)[0]
        row = {'input': f'{input_size[0]}x{input_size[1]}', 'words': num_words}
        row['host_expand_ms'] = median_cuda_ms(lambda: host.decode(logits_gpu, input_size), repeats)
        assert len(host.decode(logits_gpu, input_size)[0]) == len(cpu_polygons)
        row['cpu_fused_on_copied_logits_ms'] = median_cuda_ms(
            lambda: host.decode(logits_gpu.cpu(), input_size), repeats)
        masks = upsampled_kernel_masks(logits_gpu, 4, input_size, 0.0)
        score = upsampled_text_score(logits_gpu, 4, input_size)
        masks_cpu, score_cpu = masks.cpu(), score.cpu()
        row['cpu_op_ms'] = median_cuda_ms(
            lambda: progressive_scale_expansion(masks_cpu, score_cpu, 16), repeats)
        if has_cuda_kernel:
            device = PSEPostprocessor(cuda_decode='device_bfs')
            row['device_bfs_ms'] = median_cuda_ms(lambda: device.decode(logits_gpu, input_size),
                                                  repeats)
            assert len(device.decode(logits_gpu, input_size)[0]) == len(cpu_polygons)
            row['cuda_op_ms'] = median_cuda_ms(
                lambda: progressive_scale_expansion(masks, score, 16), repeats)
            cuda_labels = progressive_scale_expansion(masks, score, 16).labels.cpu()
            row['cuda_op_equals_cpu_op'] = bool(
                torch.equal(cuda_labels,
                            progressive_scale_expansion(masks_cpu, score_cpu, 16).labels))
        rows.append(row)
        line = (f"{row['input']} words={num_words:3d}: host_expand {row['host_expand_ms']:7.2f} "
                f"ms | cpu fused on copied logits {row['cpu_fused_on_copied_logits_ms']:7.2f} ms "
                f"({row['cpu_fused_on_copied_logits_ms'] / row['host_expand_ms']:5.2f}x)")
        if has_cuda_kernel:
            line += (f" | device_bfs {row['device_bfs_ms']:7.2f} ms "
                     f"({row['device_bfs_ms'] / row['host_expand_ms']:5.2f}x host_expand) | op: "
                     f"cuda {row['cuda_op_ms']:6.2f} ms vs cpu {row['cpu_op_ms']:6.2f} ms "
                     f"({row['cpu_op_ms'] / row['cuda_op_ms']:5.2f}x faster on the GPU; "
                     f"labels equal: {row['cuda_op_equals_cpu_op']})")
        else:
            line += f" | op: cpu {row['cpu_op_ms']:6.2f} ms (no CUDA kernel to compare)"
        print(line)
    return rows


def cpu_section(args):
    """The CPU decode against the naive baseline; returns (rows, number of target misses)."""
    from mmpse_ext.models.postprocessors import PSEPostprocessor
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    print(f'torch {torch.__version__}, 1 thread, load average {os.getloadavg()}')
    rows, failures = [], 0
    for input_size, num_words in args.cases:
        logits = synthetic_logits(input_size, num_words)
        for text_repr_type in ('quad', 'poly'):
            postprocessor = PSEPostprocessor(text_repr_type=text_repr_type)
            polygons, _ = postprocessor.decode(logits, input_size)
            baseline_polygons, _ = naive_decode(logits, text_repr_type)
            ours, ours_cpu = median_ms(lambda: postprocessor.decode(logits, input_size),
                                       args.repeats)
            naive, naive_cpu = median_ms(lambda: naive_decode(logits, text_repr_type),
                                         args.baseline_repeats)
            target = TARGET_MS[input_size]
            verdict = 'PASS' if ours <= target else 'FAIL'
            failures += verdict == 'FAIL' and not args.quick  # --quick measures nothing
            print(f'{verdict} {input_size[0]}x{input_size[1]} words={num_words:3d} '
                  f'{text_repr_type:4s}: {ours:7.2f} ms wall, {ours_cpu:6.2f} ms CPU '
                  f'(target <= {target:.0f} ms) | naive full-res baseline {naive:8.2f} ms wall, '
                  f'{naive_cpu:8.2f} ms CPU ({naive / ours:5.1f}x) | instances {len(polygons)} '
                  f'(baseline {len(baseline_polygons)})')
            rows.append({
                'input': f'{input_size[0]}x{input_size[1]}',
                'words': num_words,
                'repr': text_repr_type,
                'fused_ms': ours,
                'naive_ms': naive,
                'verdict': verdict
            })
            if args.breakdown:
                stages = stage_breakdown(postprocessor, logits, input_size, args.repeats)
                print('      stages (CPU ms): ' + ', '.join(f'{name} {ms:.2f}'
                                                            for name, ms in stages.items()))
    print(f'load average after: {os.getloadavg()}')
    return rows, failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=15)
    parser.add_argument('--baseline-repeats', type=int, default=3)
    parser.add_argument(
        '--breakdown',
        action='store_true',
        help='also print the CPU time of each stage of our decode')
    parser.add_argument(
        '--sections',
        default='cpu,gpu',
        help='comma-separated: cpu, gpu (gpu is skipped, with a message, '
        'when CUDA is not available)')
    parser.add_argument('--json', help='also write the measured rows to this JSON file')
    parser.add_argument(
        '--quick',
        action='store_true',
        help=f'only {QUICK_CASES} (checks the script runs; not a measurement)')
    args = parser.parse_args(argv)
    args.cases = QUICK_CASES if args.quick else CASES
    sections = set(args.sections.split(','))
    results, failures = {}, 0
    if 'cpu' in sections:
        results['cpu'], failures = cpu_section(args)
    if 'gpu' in sections:
        if torch.cuda.is_available():
            results['gpu'] = gpu_section(args.repeats, args.cases)
        else:
            print('GPU section skipped: CUDA is not available')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
