#!/usr/bin/env python
"""Quantize an exported PSENet to int8 with ONNX Runtime (static, QDQ, per-channel weights).

    python tools/model_converters/quantize_onnx.py configs/pse_r50vd_icdar15.py pse.onnx \\
        pse_int8.onnx --calib "my_images/*.jpg"

``--calib`` takes image files, folders (searched recursively) or glob patterns: images like
the ones the model will see. Each goes through the config's test pipeline and padding, as
``PSEDetector`` prepares it, and ONNX Runtime records the activation ranges (min/max). At most
``--max-images`` (default 8, evenly spread) are used; docs/deploy.md says how many suffice.
The first and the last convolution stay float by default (``--keep-float``; measured in
docs/deploy.md). The output runs like any exported model::

    python tools/infer.py IMAGES --config CONFIG --checkpoint pse_int8.onnx

Exit code 1 with a one-line reason on bad input (missing files, no images in ``--calib``, a
file that is not ONNX or is already quantized).
"""
import argparse
import os
import os.path as osp
import sys
import time


def parse_args(argv=None):
    from mmpse_ext.apis.onnx_quantization import DEFAULT_MAX_CALIB_IMAGES
    from mmpse_ext.engine import DEFAULT_KEEP_FLOAT, KEEP_FLOAT_CHOICES
    parser = argparse.ArgumentParser(description='int8 static quantization of a PSENet .onnx')
    parser.add_argument('config', help='model config file (test pipeline)')
    parser.add_argument('model', help='float .onnx from tools/model_converters/export_onnx.py')
    parser.add_argument('out', help='output .onnx file')
    parser.add_argument(
        '--calib',
        nargs='+',
        required=True,
        help='calibration images: files, folders or glob patterns')
    parser.add_argument(
        '--max-images',
        type=int,
        default=DEFAULT_MAX_CALIB_IMAGES,
        help=f'use at most this many calibration images, evenly spread '
        f'(default {DEFAULT_MAX_CALIB_IMAGES}; 0 = all)')
    parser.add_argument(
        '--keep-float',
        nargs='*',
        choices=KEEP_FLOAT_CHOICES,
        default=list(DEFAULT_KEEP_FLOAT),
        help='convolutions left in float (default: '
        f'{" ".join(DEFAULT_KEEP_FLOAT)}; none: quantize all)')
    args = parser.parse_args(argv)
    if args.max_images < 0:
        parser.error(f'--max-images must be >= 0, got {args.max_images}')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmpse_ext.apis.onnx_quantization import quantize_onnx
    if not osp.isfile(args.config):
        print(f'ERROR: config {args.config!r} does not exist', file=sys.stderr)
        return 1
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)

    def progress(done, total):
        if done == total or done % 8 == 0:
            print(f'calibration: {done}/{total} images', flush=True)

    start = time.perf_counter()
    try:
        report = quantize_onnx(
            args.config,
            args.model,
            args.out,
            args.calib,
            keep_float=args.keep_float,
            max_images=args.max_images or None,
            progress=progress)
    except (FileNotFoundError, ValueError, ImportError) as error:
        print(f'ERROR: {error}', file=sys.stderr)
        return 1
    except Exception as error:  # onnxruntime's failures carry long reports
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        print(
            f'ERROR: quantization of {args.model} failed: {type(error).__name__}: {first}',
            file=sys.stderr)
        return 1
    for error in report.skipped:
        print(f'WARNING: skipped calibration image {error.path}: {error.reason}', file=sys.stderr)
    size_mb = osp.getsize(args.out) / 2**20
    print(f'quantized {args.model} -> {args.out} ({size_mb:.1f} MiB, '
          f'{time.perf_counter() - start:.0f} s): {report.num_quantized_convs} convolutions '
          f'int8, {len(report.float_nodes)} float ({", ".join(args.keep_float) or "none"}), '
          f'calibrated on {report.num_calib_images} images' +
          (f' ({len(report.skipped)} unreadable skipped)' if report.skipped else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
