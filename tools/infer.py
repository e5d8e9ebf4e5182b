#!/usr/bin/env python
"""Detect text in images: polygons as JSON and ICDAR2015 submission TXT, plus drawings.

    python tools/infer.py demo.jpg --config configs/pse_r50vd_icdar15.py --checkpoint CKPT.pth
    python tools/infer.py data/icdar2015/ch4_test_images --config CFG --checkpoint CKPT.pth
    python tools/infer.py "imgs/**/*.jpg" --config CFG --checkpoint pse.onnx --batch-size 4

Inputs are image files, folders (searched recursively) and glob patterns. Each image is named
by its path relative to the deepest folder common to all inputs, without extension (``name``
below, e.g. ``img_1`` or ``a/img_1``), so the folder structure is kept and two ``img_1.jpg`` in
different folders do not overwrite each other. Under ``--out-dir`` it writes:

* ``preds/<name>.json``: ``{"img_path", "polygons": [[x1, y1, x2, y2, ...], ...], "scores"}``,
  polygons in original image pixels, as the model's post-processor returns them;
* ``submit/<dir>/res_<stem>.txt``: one ``x1,y1,x2,y2,x3,y3,x4,y4`` line per detection, the
  format of the ICDAR2015 challenge 4 submission (integer corners in clockwise order; polygons
  with more than four points are reduced to their minimum-area rectangle). Zip ``submit/*.txt``
  to submit.
* ``vis/<name>.jpg``: the image with the detections drawn by MMOCR's
  ``TextDetLocalVisualizer`` (unless ``--no-vis``).

The model comes from ``--config`` (test pipeline without annotation loading, post-processor)
and ``--checkpoint``: a ``.pth`` (Runner checkpoint or a plain state dict such as
``tools/model_converters/convert_paddle_weights.py`` writes) runs on PyTorch, an ``.onnx`` from
``tools/model_converters/export_onnx.py`` on ONNX Runtime (``--backend`` overrides the choice).
The last line printed is ``N images, M detections -> OUT_DIR/{preds,submit,vis}``.

Files that cannot be read (empty, truncated or corrupt, not an image, a format the loader does
not decode) do not stop the run: each gets one line on stderr as it is met
(``WARNING: skipped data/x.jpg: truncated JPEG``), no outputs, and a closing line on stderr
counts them (``16 inputs: 13 done, 3 unreadable: a.jpg (empty file), ...``). No traceback is
printed for a bad input, config or checkpoint.

Files are read in sensor orientation, ignoring EXIF orientation tags, as the config's image
loader says (``color_type='color_ignore_orientation'``, as MMOCR's configs do);
``--exif-orientation honour`` turns them as a photo viewer shows them, and the polygons (and
drawings) are then in that orientation.

Scale (docs/deploy.md): ``--limit-type max --limit-side-len 960`` for photos (the config's
test resize otherwise: short side 736 for ICDAR2015), ``--tile 1024`` for large scans and
posters (kept at their own pixel size, run in overlapping tiles). Any network input beyond the
config's cap (4 megapixels, 4096 per side) is scaled down with one ``WARNING:`` line naming
the image.

Exit status:

* 0: every input was read; outputs written for all;
* 1: nothing was run: a bad config, checkpoint or device, or an input that matches no image
  (one ``ERROR: ...`` line naming the file and the reason);
* 2: command-line usage error: an unknown or invalid option (argparse);
* 3: the run finished, but some inputs could not be read (outputs written for all others).
"""
import argparse
import json
import os
import os.path as osp
import sys
import warnings
from typing import List, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.utils import ProgressBar

from mmpse_ext.apis import PSEDetector, collect_images, relative_names
from mmpse_ext.datasets import InputSizeCapWarning

# a progress bar from this many images on
PROGRESS_MIN_IMAGES = 10

# exit status (see the module docstring)
EXIT_OK, EXIT_ERROR, EXIT_SOME_UNREADABLE = 0, 1, 3
# unreadable files named in the closing line (all are named in the warnings above it)
SUMMARY_MAX_NAMES = 20


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Detect text in images with a PSENet model',
        epilog='exit status: 0 all inputs read; 1 bad config/checkpoint/device/input pattern '
        '(nothing run); 2 usage error; 3 finished, but some inputs could not be read')
    parser.add_argument(
        'inputs', nargs='+', help='image files, folders (searched recursively) or glob patterns')
    parser.add_argument('--config', required=True, help='model config file')
    parser.add_argument(
        '--checkpoint',
        required=True,
        help='.pth checkpoint (Runner or converted from Paddle) or .onnx file '
        '(tools/model_converters/export_onnx.py)')
    parser.add_argument(
        '--backend',
        choices=('pytorch', 'onnxruntime'),
        default=None,
        help='default: onnxruntime for a .onnx checkpoint, else pytorch')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=1,
        help='images per network call (images of one padded size are batched)')
    parser.add_argument('--out-dir', default='work_dirs/infer', help='output directory')
    parser.add_argument(
        '--device', default=None, help='cpu, cuda or cuda:N (default: cuda if available)')
    parser.add_argument(
        '--precision',
        choices=('fp32', 'bf16', 'fp16'),
        default='fp32',
        help='PyTorch backend: bf16 (bfloat16, fast on CPUs with AVX512-BF16/AMX) '
        'or fp16 (GPUs); an int8 model is a .onnx from '
        'tools/model_converters/quantize_onnx.py (docs/deploy.md)')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.0,
        help='drop detections whose score is below this (default: keep all)')
    parser.add_argument('--no-vis', action='store_true', help='do not write vis/*.jpg')
    parser.add_argument(
        '--exif-orientation',
        choices=('honour', 'ignore'),
        default=None,
        help='honour: turn files as their EXIF orientation tag says (as photo '
        'viewers show them), polygons in that orientation; ignore: sensor '
        "orientation; default: as the config's image loader says (our "
        'configs ignore the tag)')
    parser.add_argument(
        '--limit-side-len',
        type=int,
        default=None,
        metavar='N',
        help="test resize side length (default: the config's, 736 for "
        'ICDAR2015); photos: --limit-type max --limit-side-len 960')
    parser.add_argument(
        '--limit-type',
        choices=('min', 'max', 'resize_long'),
        default=None,
        help="test resize rule: 'min' enlarges a short side below N to N (the "
        "recipe's), 'max' shrinks a long side above N to N, 'resize_long' "
        "scales the long side to N (default: the config's)")
    parser.add_argument(
        '--tile',
        type=int,
        default=None,
        metavar='SIZE',
        help='images whose long side exceeds SIZE keep their pixel size and run '
        'in overlapping SIZE x SIZE tiles (a multiple of 32; e.g. 1024)')
    args = parser.parse_args(argv)
    if args.backend is None:
        args.backend = 'onnxruntime' if args.checkpoint.endswith('.onnx') else 'pytorch'
    if args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}')
    if args.limit_side_len is not None and args.limit_side_len < 1:
        parser.error(f'--limit-side-len must be >= 1, got {args.limit_side_len}')
    return args


def clockwise_quad(polygon: np.ndarray) -> np.ndarray:
    """Reduce a polygon to 4 integer corners in clockwise order (image coordinates, y down).

    Args:
        polygon (np.ndarray[N, 2], float): N >= 3 points.

    Returns:
        np.ndarray[4, 2], int64: the polygon itself if N == 4, else its minimum-area rectangle;
        ordered so that the ICDAR2015 script's clockwise check (sum over edges of
        (x2 - x1) * (y2 + y1) <= 0) passes.
    """
    if len(polygon) != 4:
        polygon = cv2.boxPoints(cv2.minAreaRect(polygon.astype(np.float32)))
    quad = np.rint(polygon).astype(np.int64)
    x, y = quad[:, 0], quad[:, 1]
    edge_sum = np.sum((np.roll(x, -1) - x) * (np.roll(y, -1) + y))
    return quad[::-1].copy() if edge_sum > 0 else quad


def submission_path(out_dir: str, name: str) -> str:
    """``submit/<dir>/res_<stem>.txt`` for the output name ``<dir>/<stem>``."""
    folder, stem = osp.split(name)
    return osp.join(out_dir, 'submit', folder, f'res_{stem}.txt')


class PredictionDrawer:
    """Draws predictions with MMOCR's ``TextDetLocalVisualizer`` (polygons, no boxes)."""

    def __init__(self) -> None:
        from mmocr.visualization import TextDetLocalVisualizer
        self.visualizer = TextDetLocalVisualizer(
            name=f'mmpse_ext_infer_{id(self)}', with_poly=True, with_bbox=False)

    def draw(self, image_bgr: np.ndarray, polygons: Sequence[np.ndarray], scores: np.ndarray,
             out_file: str) -> None:
        """Write ``image_bgr`` with ``polygons`` outlined to ``out_file``."""
        from mmengine.structures import InstanceData
        from mmocr.structures import TextDetDataSample
        sample = TextDetDataSample()
        sample.pred_instances = InstanceData(
            polygons=[p.reshape(-1) for p in polygons],
            scores=torch.as_tensor(np.asarray(scores, np.float32)))
        self.visualizer.add_datasample(
            osp.basename(out_file),
            image_bgr[..., ::-1],
            sample,
            draw_gt=False,
            draw_pred=True,
            show=False,
            pred_score_thr=-np.inf,
            out_file=out_file)


def write_outputs(out_dir: str, name: str, img_path: str, polygons, scores) -> None:
    """``preds/<name>.json`` and the ICDAR2015 submission file of one image."""
    json_path = osp.join(out_dir, 'preds', f'{name}.json')
    os.makedirs(osp.dirname(json_path), exist_ok=True)
    with open(json_path, 'w') as f:
        json.dump(
            dict(
                img_path=img_path,
                polygons=[p.reshape(-1).round(2).tolist() for p in polygons],
                scores=[round(float(s), 4) for s in scores]), f)
    txt_path = submission_path(out_dir, name)
    os.makedirs(osp.dirname(txt_path), exist_ok=True)
    with open(txt_path, 'w') as f:
        for polygon in polygons:
            f.write(','.join(str(v) for v in clockwise_quad(polygon).reshape(-1)) + '\n')


def unreadable_summary(images: Sequence[str], unreadable: Sequence[Tuple[str, str]]) -> str:
    """``16 inputs: 13 done, 3 unreadable: a.jpg (empty file), ...``, paths relative to the
    deepest folder common to all inputs."""
    common = osp.commonpath([osp.dirname(osp.abspath(path)) for path in images])
    named = [
        f'{osp.relpath(osp.abspath(path), common)} ({reason})'
        for path, reason in unreadable[:SUMMARY_MAX_NAMES]
    ]
    if len(unreadable) > SUMMARY_MAX_NAMES:
        named.append(f'and {len(unreadable) - SUMMARY_MAX_NAMES} more (named above)')
    return (f'{len(images)} inputs: {len(images) - len(unreadable)} done, '
            f'{len(unreadable)} unreadable: ' + ', '.join(named))


def main(argv=None) -> int:
    args = parse_args(argv)
    exif_orientation = (None
                        if args.exif_orientation is None else args.exif_orientation == 'honour')
    try:
        images = collect_images(args.inputs)
        detector = PSEDetector(
            args.config,
            args.checkpoint,
            backend=args.backend,
            device=args.device,
            batch_size=args.batch_size,
            exif_orientation=exif_orientation,
            limit_side_len=args.limit_side_len,
            limit_type=args.limit_type,
            tile=args.tile,
            precision=args.precision)
    except (OSError, ValueError, RuntimeError, ImportError) as error:
        print(f'ERROR: {error}', file=sys.stderr)
        return EXIT_ERROR
    names = relative_names(images)
    drawer = None if args.no_vis else PredictionDrawer()
    vis_flags = cv2.IMREAD_COLOR | (0
                                    if detector.exif_orientation else cv2.IMREAD_IGNORE_ORIENTATION)
    progress = ProgressBar(len(images)) if len(images) >= PROGRESS_MIN_IMAGES else None
    num_detections = 0
    unreadable: List[Tuple[str, str]] = []
    for position, detection in detector.predict_iter(images):
        if detection.error is not None:
            unreadable.append((images[position], detection.error))
            on_bar = progress is not None and sys.stderr.isatty()  # start below the bar
            print(
                ('\n' if on_bar else '') + f'WARNING: skipped {images[position]}: '
                f'{detection.error}',
                file=sys.stderr)
            if progress is not None:
                progress.update()
            continue
        keep = [i for i, score in enumerate(detection.scores) if score >= args.score_thr]
        polygons, scores = [detection.polygons[i] for i in keep], detection.scores[keep]
        num_detections += len(polygons)
        img_path, name = images[position], names[position]
        write_outputs(args.out_dir, name, img_path, polygons, scores)
        if drawer is not None:
            image = cv2.imread(img_path, vis_flags)
            drawer.draw(image, polygons, scores, osp.join(args.out_dir, 'vis', f'{name}.jpg'))
        if progress is not None:
            progress.update()
    print(f'\n{len(images) - len(unreadable)} images, {num_detections} detections -> '
          f'{args.out_dir}/'
          '{preds,submit' + ('' if args.no_vis else ',vis') + '}')
    if unreadable:
        sys.stdout.flush()
        print(unreadable_summary(images, unreadable), file=sys.stderr)
        return EXIT_SOME_UNREADABLE
    return EXIT_OK


def cap_warnings_on_one_line() -> None:
    """Print the test resize's cap warnings as ``WARNING: <file>: ...`` lines (one per image,
    no source location); other warnings as Python shows them."""
    show = warnings.showwarning

    def show_cap_warning(message, category, *args, **kwargs):
        if issubclass(category, InputSizeCapWarning):
            print(f'WARNING: {message}', file=sys.stderr)
        else:
            show(message, category, *args, **kwargs)

    warnings.showwarning = show_cap_warning


if __name__ == '__main__':
    cap_warnings_on_one_line()
    sys.exit(main())
