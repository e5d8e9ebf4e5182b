#!/usr/bin/env python
"""Export a trained PSENet to ONNX: normalisation + backbone + neck + head → 1/4 logits.

    python tools/model_converters/export_onnx.py configs/pse_r50vd_icdar15.py CHECKPOINT.pth \
        pse.onnx

The graph takes ``images``: ``[N, 3, H, W]`` float32 raw pixels (0-255, the channel order of
the test pipeline, BGR), N, H and W dynamic, H and W multiples of 32, and returns ``logits``:
``[N, K, H/4, W/4]``. Post-processing stays in the ``pse_ext`` op: run the file with
``mmpse_ext.apis.PSEDetector(CONFIG, 'pse.onnx', backend='onnxruntime')`` or
``tools/infer.py --backend onnxruntime``. Before reporting success the script runs onnx's
checker and compares ONNX Runtime's logits with PyTorch's on an input of another size than the
one traced (see docs/deploy.md). torch's dynamo exporter is used where torch has it (>= 2.6),
its TorchScript exporter otherwise (``--exporter`` chooses); the check is the same for both.
Exit code 1 with a one-line reason on any failure.
"""
import argparse
import os
import os.path as osp
import sys
import time

import torch

DEFAULT_CHECK_SHAPE = (1, 3, 320, 544)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Export a PSENet to ONNX (dynamic N, H, W)')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint (.pth, Runner or converted from Paddle)')
    parser.add_argument('out', help='output .onnx file')
    parser.add_argument(
        '--check-shape',
        type=int,
        nargs=4,
        default=DEFAULT_CHECK_SHAPE,
        metavar=('N', 'C', 'H', 'W'),
        help='input shape of the ONNX Runtime vs PyTorch check '
        f'(default {" ".join(map(str, DEFAULT_CHECK_SHAPE))})')
    parser.add_argument(
        '--exporter',
        choices=('dynamo', 'torchscript'),
        default=None,
        help="torch's exporter; default dynamo where this torch has it "
        '(torch >= 2.6), else torchscript')
    parser.add_argument(
        '--atol',
        type=float,
        default=1e-4,
        help='largest allowed |logit difference| per unit of the largest '
        '|logit| (at least 1), default 1e-4')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmpse_ext.apis import (PSELogitsNetwork, check_onnx_graph, compare_with_pytorch,
                                export_onnx, load_config, load_model)
    if not args.out.endswith('.onnx'):
        print(f'ERROR: output {args.out!r} should end with .onnx', file=sys.stderr)
        return 1
    try:
        cfg = load_config(args.config)
        network = PSELogitsNetwork(load_model(cfg, args.checkpoint, 'cpu'))
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        print(f'ERROR: {error}', file=sys.stderr)
        return 1
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)

    start = time.perf_counter()
    try:
        exporter = export_onnx(network, args.out, exporter=args.exporter)
    except (ImportError, ValueError) as error:
        print(f'ERROR: export of {args.config} failed: {error}', file=sys.stderr)
        return 1
    except Exception as error:  # torch.export / exporter failures carry long reports
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        print(
            f'ERROR: torch.onnx.export of {args.config} failed: {type(error).__name__}: '
            f'{first}',
            file=sys.stderr)
        return 1
    export_s = time.perf_counter() - start
    try:
        check_onnx_graph(args.out)
    except Exception as error:
        print(f'ERROR: onnx checker rejects {args.out}: {error}', file=sys.stderr)
        return 1
    report = compare_with_pytorch(network, args.out, args.check_shape)
    allowed = args.atol * max(1.0, report.max_abs_logit)
    if report.max_abs_diff > allowed:
        print(
            f'ERROR: ONNX Runtime and PyTorch logits differ by {report.max_abs_diff:.3g} on '
            f'input {list(report.shape)} (allowed {allowed:.3g}); {args.out} is not usable',
            file=sys.stderr)
        return 1
    size_mb = osp.getsize(args.out) / 2**20
    print(f'exported {args.out} ({size_mb:.1f} MiB, {export_s:.1f} s, torch {torch.__version__}, '
          f'{exporter} exporter); '
          f'onnx checker OK; ONNX Runtime vs PyTorch on {list(report.shape)}: max |diff| '
          f'{report.max_abs_diff:.2e} (largest |logit| {report.max_abs_logit:.2f})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
