#!/usr/bin/env python
"""The pse_ext expansion op on CUDA against the CPU op, with torch alone (no OpenMMLab stack).

Loads the built library ``mmpse_ext/_C*.so`` directly with ``torch.ops.load_library``, so this
check runs even where the rest of the stack does not import (.dev_scripts/gpu_acceptance.sh runs it
first). On word-like masks (nested rotated rectangles, touching words, 7 levels) at 736×1312 and
1280×2240 it checks that the CUDA op's labels, areas and boxes equal the CPU op's and its score
sums agree to float64 rounding of a different summation order, and times both (median, GPU
synchronised). Without CUDA (dry runs) only the CPU op runs.

    python .dev_scripts/gpu_acceptance/op_check.py [--json out.json] [--repeats 20]
"""
import argparse
import glob
import json
import math
import os.path as osp
import statistics
import sys
import time

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CASES = [((736, 1312), 50), ((736, 1312), 200), ((1280, 2240), 100)]


def load_library() -> str:
    paths = sorted(glob.glob(osp.join(REPO, 'mmpse_ext', '_C*.so')))
    if not paths:
        raise SystemExit(f'op_check: no mmpse_ext/_C*.so under {REPO}: build the extension first')
    torch.ops.load_library(paths[0])
    return paths[0]


def word_masks(size, num_words, levels=7, seed=0):
    """[levels, H, W] uint8: rotated word rectangles, each level shrunk towards its centre."""
    generator = torch.Generator().manual_seed(seed)
    height, width = size
    ys = torch.arange(height, dtype=torch.float32)[:, None]
    xs = torch.arange(width, dtype=torch.float32)[None, :]
    masks = torch.zeros(levels, height, width, dtype=torch.bool)
    word_h = max(8.0, math.sqrt(height * width * 0.3 / num_words / 4))
    x = y = 4.0
    for _ in range(num_words):
        half_h = word_h * (0.4 + 0.2 * float(torch.rand(1, generator=generator)))
        half_w = half_h * (2 + 4 * float(torch.rand(1, generator=generator)))
        if x + 2 * half_w + 4 > width:
            x, y = 4.0, y + 3 * half_h
        if y + 2 * half_h + 4 > height:
            y = 4.0 + float(torch.rand(1, generator=generator)) * word_h
        cx, cy = x + half_w, y + half_h
        angle = (float(torch.rand(1, generator=generator)) - 0.5) * 0.3
        u = (xs - cx) * math.cos(angle) + (ys - cy) * math.sin(angle)
        v = -(xs - cx) * math.sin(angle) + (ys - cy) * math.cos(angle)
        for level in range(levels):
            shrink = 0.6 * level / (levels - 1) * half_h
            masks[level] |= (u.abs() <= half_w - shrink) & (v.abs() <= half_h - shrink)
        touching = float(torch.rand(1, generator=generator)) < 0.3
        x += 2 * half_w + (0.0 if touching else word_h)
    return masks.to(torch.uint8)


def median_ms(fn, repeats, cuda):
    fn()
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--json')
    parser.add_argument('--small', action='store_true', help='small maps only (dry runs)')
    args = parser.parse_args(argv)
    library = load_library()
    op = torch.ops.pse_ext.progressive_scale_expansion
    has_cuda = torch.cuda.is_available() and torch._C._dispatch_has_kernel_for_dispatch_key(
        'pse_ext::progressive_scale_expansion', 'CUDA')
    print(f'op_check: {library}; torch {torch.__version__}; CUDA kernel usable: {has_cuda}')
    cases = [((184, 328), 20)] if args.small else CASES
    rows, ok = [], True
    for size, num_words in cases:
        masks = word_masks(size, num_words)
        score = torch.rand(size, generator=torch.Generator().manual_seed(1))
        cpu = op(masks, score, 16)
        row = dict(
            size=f'{size[0]}x{size[1]}',
            words=num_words,
            instances=int(cpu[1].numel()),
            cpu_ms=median_ms(lambda: op(masks, score, 16), args.repeats, False))
        line = (f"{row['size']} words={num_words:3d}: {row['instances']} instances, CPU op "
                f"{row['cpu_ms']:.2f} ms")
        if has_cuda:
            masks_cuda, score_cuda = masks.cuda(), score.cuda()
            cuda = [t.cpu() for t in op(masks_cuda, score_cuda, 16)]
            same = (
                torch.equal(cuda[0], cpu[0]) and torch.equal(cuda[1], cpu[1])
                and torch.equal(cuda[3], cpu[3])
                and torch.allclose(cuda[2], cpu[2], rtol=1e-9, atol=1e-6))
            row['cuda_equals_cpu'] = bool(same)
            row['cuda_ms'] = median_ms(lambda: op(masks_cuda, score_cuda, 16), args.repeats, True)
            row['cuda_speedup'] = row['cpu_ms'] / row['cuda_ms']
            ok &= same
            line += (f" | CUDA op {row['cuda_ms']:.2f} ms ({row['cuda_speedup']:.2f}x the CPU op), "
                     f'identical result: {same}')
        rows.append(row)
        print(line)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(cuda_kernel=has_cuda, rows=rows), f, indent=1)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
