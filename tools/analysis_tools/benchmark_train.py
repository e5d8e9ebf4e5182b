#!/usr/bin/env python
"""Benchmark training steps of the flagship model (configs/pse_r50vd_icdar15.py): fp32 vs AMP.

The model (ResNet50-vd + FPN + PSE head + PSE loss) is built from the config, without the
pretrained backbone file, and trained on a fixed synthetic batch (random images, nested
rectangular text kernels) with the recipe's optimizer, once with mmengine's fp32 ``OptimWrapper``
and once with the recipe's AMP settings (``DeviceAgnosticAmpOptimWrapper``, float16 autocast,
dynamic loss scaling from 1024), in the same run. Prints iterations/s, images/s, peak GPU memory
and the ratios; data loading is excluded (the batch is already on the device).

    python tools/analysis_tools/benchmark_train.py [--device cuda] [--batch 8] [--size 640] \
        [--iters 20]
    python tools/analysis_tools/benchmark_train.py --device cpu --batch 1 --size 128 --iters 1 \
        --warmup 0
"""
import argparse
import json
import os.path as osp
import statistics
import sys
import time

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'pse_r50vd_icdar15.py')


def synthetic_batch(batch: int, size: int, num_kernels: int, seed: int = 0):
    """``dict(inputs, data_samples)`` as the data loader yields it (uint8 CHW images, samples
    with ``gt_kernels`` [K, size, size] and ``gt_train_mask``)."""
    from mmocr.structures import TextDetDataSample
    generator = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(
            torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=generator))
        kernels = torch.zeros(num_kernels, size, size, dtype=torch.uint8)
        for _ in range(6):  # six word-like boxes, each kernel shrinking towards the centre
            h, w = (
                int(v) for v in torch.randint(size // 16, size // 6, (2, ), generator=generator))
            y, x = (int(v) for v in torch.randint(0, size - h, (2, ), generator=generator))
            for level in range(num_kernels):
                shrink = level * min(h, w) // (3 * num_kernels)
                kernels[level, y + shrink:y + h - shrink, x + shrink:x + w - shrink] = 1
        sample = TextDetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                scale_factor=(1, 1)))
        sample.gt_kernels = kernels
        sample.gt_train_mask = torch.ones(size, size, dtype=torch.uint8)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def build_model_and_cfg(device: str):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmpse_ext  # noqa: F401  (registers our modules)
    from mmpse_ext.registry import MODELS
    cfg = Config.fromfile(CONFIG)
    init_default_scope(cfg.get('default_scope', 'mmocr'))
    cfg.model.backbone.init_cfg = None  # no pretrained file here: random initialisation
    model = MODELS.build(cfg.model).to(device)
    model.init_weights()
    model.train()
    return model, cfg


def run_mode(mode: str, device: str, args) -> dict:
    """Train ``args.iters`` timed steps (after ``args.warmup``) in ``mode`` ('fp32' or 'amp')."""
    from mmengine.optim import build_optim_wrapper
    torch.manual_seed(0)
    model, cfg = build_model_and_cfg(device)
    optim_cfg = dict(type='OptimWrapper', optimizer=cfg.optim_wrapper.optimizer)
    if mode == 'amp':
        optim_cfg = dict(
            type='mmpse_ext.DeviceAgnosticAmpOptimWrapper',
            loss_scale=dict(init_scale=1024.0),
            optimizer=cfg.optim_wrapper.optimizer)
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    num_kernels = cfg.model.det_head.get('out_channels', 7)
    data = synthetic_batch(args.batch, args.size, num_kernels)
    is_cuda = device.startswith('cuda')

    def sync():
        if is_cuda:
            torch.cuda.synchronize()

    losses = []
    for _ in range(args.warmup):
        model.train_step(data, optim_wrapper)
    sync()
    if is_cuda:
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.iters):
        start = time.perf_counter()
        log_vars = model.train_step(data, optim_wrapper)
        sync()
        times.append(time.perf_counter() - start)
        losses.append(float(log_vars['loss']))
    seconds = statistics.median(times)
    result = dict(
        mode=mode,
        device=device,
        batch=args.batch,
        size=args.size,
        iters=args.iters,
        median_step_s=seconds,
        iters_per_s=1.0 / seconds,
        images_per_s=args.batch / seconds,
        final_loss=losses[-1],
        losses_finite=all(torch.isfinite(torch.tensor(losses)).tolist()))
    if is_cuda:
        result['peak_memory_gib'] = torch.cuda.max_memory_allocated() / 2**30
    if mode == 'amp':
        result['loss_scale'] = float(optim_wrapper.loss_scaler.get_scale())
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--size', type=int, default=640)
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--json', help='also write the results to this JSON file')
    args = parser.parse_args(argv)
    if args.device.startswith('cuda'):
        torch.backends.cudnn.benchmark = True
    results = [run_mode(mode, args.device, args) for mode in ('fp32', 'amp')]
    for r in results:
        memory = (f", peak memory {r['peak_memory_gib']:.2f} GiB" if 'peak_memory_gib' in r else '')
        scale = f", loss scale {r['loss_scale']:g}" if 'loss_scale' in r else ''
        print(f"{r['mode']:4s} {r['device']} batch {r['batch']} @ {r['size']}: "
              f"{r['iters_per_s']:.3f} it/s ({r['images_per_s']:.1f} img/s){memory}, "
              f"last loss {r['final_loss']:.4f}{scale}")
    fp32, amp = results
    ratio = amp['iters_per_s'] / fp32['iters_per_s']
    line = f'AMP / fp32 speed: {ratio:.2f}x'
    if 'peak_memory_gib' in amp:
        line += f", peak memory {amp['peak_memory_gib'] / fp32['peak_memory_gib']:.2f}x"
    print(line)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(results=results, amp_over_fp32_speed=ratio), f, indent=1)
    return 0 if all(r['losses_finite'] for r in results) else 1


if __name__ == '__main__':
    sys.exit(main())
