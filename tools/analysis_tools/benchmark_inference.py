#!/usr/bin/env python
"""Benchmark image → polygons on CPU at 736×1280: our PSENet on PyTorch (fp32 and bf16) and on
ONNX Runtime (fp32 and int8) against MMOCR 1.0.1's stock PSENet (ResNet50 + FPNF + its
PSEPostprocessor).

    python tools/analysis_tools/benchmark_inference.py [--images 3] [--threads 1 2]

Models: ours = ``configs/pse_r50vd_icdar15.py`` (ResNet50-vd + PSEFPN + PSEHead; exported once
to ONNX with ``mmpse_ext.apis.export_onnx`` into a temporary folder); MMOCR's =
``textdet/psenet/psenet_resnet50_fpnf_600e_icdar2015.py`` from the installed mmocr's own
configs. Both are randomly initialised (no trained R50 weights exist offline), which does not
change the network's cost; the post-processing, whose cost depends on what the network sees,
is therefore fed with the same realistic logits for both: the PSE targets of the images'
ground truth (``mmpse_ext.PSETargets``), area-averaged to 1/4 resolution and mapped to logits
±6 (soft edges). Images: synthetic scenes (``mmpse_ext.datasets.synthetic.make_scene``),
736×1280, the flagship's test size, so no resize is timed.

Reduced precision: *bf16* = ``TorchLogitsBackend(precision='bf16')`` (bfloat16 autocast,
channels_last, float32 logits), what ``PSEDetector(..., precision='bf16')`` runs; *int8* = the
ONNX file quantized by ``mmpse_ext.apis.quantize_onnx`` (calibrated on the timed scenes; the
cost does not depend on the ranges). Targets at one thread, image → polygons: bf16 >= 3x and
int8 >= 4.5x MMOCR's total (printed PASS/FAIL; the exit status does not depend on them).

Acceptance of issue 18, at one thread (printed after the table): the whole call
``PSEDetector(OUR_CONFIG, weights, precision='bf16')(path)`` on 720×1280 JPEG files (decode,
the config's test resize to 736×1312, network, post-processing; the weights are the same random
ones, saved as a checkpoint) against MMOCR's network forward alone at 736×1312; target >= 3x.

Timed per image, each after one warm-up call: *network* = normalisation + backbone + neck +
head (MMOCR's ``data_preprocessor`` + ``extract_feat`` + ``det_head``), *post* = 1/4 logits →
polygons in original coordinates (our ``PSEPostprocessor``: ×4 upsampling + ``pse_ext`` op +
contours; MMOCR's: mmcv's ``contour_expand`` at 1/4 resolution + one full-map scan per
instance). Threads: ``torch.set_num_threads`` and ONNX Runtime's ``intra_op_num_threads``.
Prints medians over the images, ratios MMOCR / ours, and the load average before and after.
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import tempfile
import time

import cv2
import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OUR_CONFIG = osp.join(REPO, 'configs', 'pse_r50vd_icdar15.py')
MMOCR_CONFIG = osp.join('textdet', 'psenet', 'psenet_resnet50_fpnf_600e_icdar2015.py')
HEIGHT, WIDTH = 736, 1280
LOGIT_MAGNITUDE = 6.0
# MMOCR total / ours total at one thread
TARGETS = dict(ours_bf16=3.0, ours_int8=4.5)
# PSEDetector(precision='bf16') on a 720x1280 file, whole call / MMOCR's forward at 736x1312
ACCEPTANCE_IMAGE, ACCEPTANCE_NETWORK, ACCEPTANCE_TARGET = (720, 1280), (736, 1312), 3.0
ROWS = ('ours_pytorch', 'ours_bf16', 'ours_onnxruntime', 'ours_int8', 'mmocr')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=3, help='timed images per setting')
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def make_images(num_images: int, seed: int):
    """Synthetic 736×1280 scenes: list of (BGR uint8 image, flat polygons, ignored flags)."""
    from mmpse_ext.datasets.synthetic import make_scene
    from mmpse_ext.datasets.synthetic.fonts import find_fonts
    fonts = find_fonts()
    scenes = []
    for index in range(num_images + 1):  # + 1 for the warm-up
        rng = np.random.default_rng(seed + index)
        image, regions = make_scene(rng, HEIGHT, WIDTH, fonts)
        polygons = [np.asarray(r.points, np.float32).reshape(-1) for r in regions]
        ignored = np.array([r.text == '###' for r in regions], bool)
        scenes.append((image, polygons, ignored))
    return scenes


def realistic_logits(image, polygons, ignored, num_kernels: int) -> torch.Tensor:
    """``[1, K, H/4, W/4]`` logits that a well-trained model would give for this scene."""
    from mmpse_ext.datasets.transforms import PSETargets
    targets = PSETargets(kernel_num=num_kernels)(
        dict(img=image, gt_polygons=list(polygons), gt_ignored=ignored.copy()))
    kernels = targets['gt_kernels'].astype(np.float32)
    coverage = np.stack(
        [cv2.resize(k, (WIDTH // 4, HEIGHT // 4), interpolation=cv2.INTER_AREA) for k in kernels])
    return torch.from_numpy(2 * LOGIT_MAGNITUDE * (coverage - 0.5))[None].contiguous()


def text_det_sample(shape=(HEIGHT, WIDTH)):
    from mmocr.structures import TextDetDataSample
    sample = TextDetDataSample()
    sample.set_metainfo(
        dict(img_path='benchmark', img_shape=shape, ori_shape=shape, scale_factor=(1.0, 1.0)))
    return sample


def mmocr_network_forward(model, image: torch.Tensor) -> torch.Tensor:
    """MMOCR's ``data_preprocessor`` + ``extract_feat`` + ``det_head`` on one ``[3, H, W]``
    uint8 image."""
    sample = text_det_sample(tuple(image.shape[-2:]))
    data = model.data_preprocessor(dict(inputs=[image], data_samples=[sample]), False)
    return model.det_head(model.extract_feat(data['inputs']))


def median_ms(fn, inputs) -> float:
    fn(inputs[0])  # warm-up
    times = []
    for item in inputs[1:]:
        start = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def build_models(onnx_dir: str, calib_dir: str):
    """Our network + post-processor, its ONNX file and int8 ONNX file, and MMOCR's PSENet."""
    import mmocr
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmocr.registry import MODELS

    import mmpse_ext  # noqa: F401
    from mmpse_ext.apis import PSELogitsNetwork, export_onnx, quantize_onnx
    init_default_scope('mmocr')
    torch.manual_seed(0)
    ours = MODELS.build(Config.fromfile(OUR_CONFIG).model).eval()
    network = PSELogitsNetwork(ours).eval()
    onnx_file = osp.join(onnx_dir, 'pse_r50vd.onnx')
    start = time.perf_counter()
    export_onnx(network, onnx_file)
    print(f'exported {osp.basename(OUR_CONFIG)} to ONNX in {time.perf_counter() - start:.0f} s')
    int8_file = osp.join(onnx_dir, 'pse_r50vd_int8.onnx')
    start = time.perf_counter()
    quantize_onnx(OUR_CONFIG, onnx_file, int8_file, [calib_dir], max_images=2)
    print(f'quantized it to int8 in {time.perf_counter() - start:.0f} s')
    mmocr_cfg = Config.fromfile(
        osp.join(osp.dirname(mmocr.__file__), '.mim', 'configs', MMOCR_CONFIG))
    theirs = MODELS.build(mmocr_cfg.model).eval()
    return network, ours.det_head.postprocessor, onnx_file, int8_file, theirs


def detector_acceptance(network, theirs, work_dir: str, num_images: int, seed: int) -> tuple:
    """(ms per whole ``PSEDetector(precision='bf16')`` call on a 720×1280 file, ms per MMOCR
    network forward at 736×1312), medians after one warm-up, on the current thread setting."""
    from mmpse_ext.apis import PSEDetector
    from mmpse_ext.datasets.synthetic import make_scene
    from mmpse_ext.datasets.synthetic.fonts import find_fonts
    checkpoint = osp.join(work_dir, 'random_weights.pth')
    torch.save(dict(state_dict=network.detector.state_dict()), checkpoint)
    detector = PSEDetector(OUR_CONFIG, checkpoint, device='cpu', precision='bf16')
    fonts, paths = find_fonts(), []
    for index in range(num_images + 1):
        image, _ = make_scene(np.random.default_rng(seed + 100 + index), *ACCEPTANCE_IMAGE, fonts)
        paths.append(osp.join(work_dir, f'photo_{index}.jpg'))
        cv2.imwrite(paths[-1], image)
    ours = median_ms(detector, paths)
    height, width = ACCEPTANCE_NETWORK
    generator = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, (3, height, width), generator=generator, dtype=torch.uint8)
        for _ in range(num_images + 1)
    ]
    with torch.inference_mode():
        theirs_ms = median_ms(lambda image: mmocr_network_forward(theirs, image), inputs)
    return ours, theirs_ms


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmpse_ext.apis import OnnxRuntimeLogitsBackend, TorchLogitsBackend
    load_before = os.getloadavg()
    print(f'torch {torch.__version__}, {os.cpu_count()} CPUs, load average {load_before}')
    scenes = make_images(args.images, args.seed)
    with tempfile.TemporaryDirectory() as onnx_dir:
        calib_dir = osp.join(onnx_dir, 'calib')
        os.makedirs(calib_dir)
        for index, (image, _, _) in enumerate(scenes[:2]):
            cv2.imwrite(osp.join(calib_dir, f'{index}.png'), image)
        network, our_post, onnx_file, int8_file, theirs = build_models(onnx_dir, calib_dir)
        bf16_backend = TorchLogitsBackend(network, 'cpu', precision='bf16')
        num_kernels = theirs.det_head.out_conv.out_channels if hasattr(theirs.det_head,
                                                                       'out_conv') else 7
        images = [
            torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))) for img, _, _ in scenes
        ]
        float_images = [img.float()[None] for img in images]
        logits = [realistic_logits(img, polys, ign, num_kernels) for img, polys, ign in scenes]

        def our_post_fn(item):
            return our_post(item, [text_det_sample()])

        def their_post_fn(item):
            return theirs.det_head.postprocessor(item, [text_det_sample()])

        counts = dict(
            gt=int(np.mean([(~ign).sum() for _, _, ign in scenes[1:]])),
            ours=np.mean([len(our_post_fn(x)[0].pred_instances.polygons) for x in logits[1:]]),
            mmocr=np.mean([len(their_post_fn(x)[0].pred_instances.polygons) for x in logits[1:]]))
        print(f'{args.images} images {HEIGHT}x{WIDTH}, on average {counts["gt"]} cared words; '
              f'instances decoded from their ground-truth logits: ours {counts["ours"]:.1f}, '
              f'MMOCR {counts["mmocr"]:.1f}')
        rows = []
        for threads in args.threads:
            torch.set_num_threads(threads)
            ort_backend = OnnxRuntimeLogitsBackend(onnx_file, 'cpu', num_threads=threads)
            int8_backend = OnnxRuntimeLogitsBackend(int8_file, 'cpu', num_threads=threads)
            with torch.inference_mode():
                net = dict(
                    ours_pytorch=median_ms(network, float_images),
                    ours_bf16=median_ms(bf16_backend, float_images),
                    ours_onnxruntime=median_ms(ort_backend, float_images),
                    ours_int8=median_ms(int8_backend, float_images),
                    mmocr=median_ms(lambda image: mmocr_network_forward(theirs, image), images))
                post_ours = median_ms(our_post_fn, logits)
                post = {key: post_ours for key in ROWS}
                post['mmocr'] = median_ms(their_post_fn, logits)
            rows.append((threads, net, post))
        acceptance = None
        if 1 in args.threads:
            torch.set_num_threads(1)
            acceptance = detector_acceptance(network, theirs, onnx_dir, args.images, args.seed)

    print(f'\nmedian ms per image ({HEIGHT}x{WIDTH}, CPU); ratio = MMOCR / this row')
    header = (f'{"threads":>7}  {"implementation":<34}{"network":>9}{"post":>9}{"total":>9}'
              f'{"ratio net":>11}{"ratio post":>11}{"ratio total":>12}')
    print(header)
    labels = dict(
        ours_pytorch='ours, PyTorch fp32',
        ours_bf16='ours, PyTorch bf16',
        ours_onnxruntime='ours, ONNX Runtime fp32',
        ours_int8='ours, ONNX Runtime int8',
        mmocr='MMOCR 1.0.1 PSENet (R50 + FPNF)')
    verdicts = []
    for threads, net, post in rows:
        their_total = net['mmocr'] + post['mmocr']
        for key in ROWS:
            total = net[key] + post[key]
            print(f'{threads:>7}  {labels[key]:<34}{net[key]:>9.0f}{post[key]:>9.1f}'
                  f'{total:>9.0f}{net["mmocr"] / net[key]:>10.2f}x'
                  f'{post["mmocr"] / post[key]:>10.2f}x{their_total / total:>11.2f}x')
            if threads == 1 and key in TARGETS:
                ratio = their_total / total
                verdicts.append(f'{"PASS" if ratio >= TARGETS[key] else "FAIL"}: '
                                f'{labels[key]}, 1 thread, image -> polygons {ratio:.2f}x '
                                f'MMOCR (target >= {TARGETS[key]}x)')
    if acceptance is not None:
        ours, theirs_ms = acceptance
        ratio = theirs_ms / ours
        verdicts.append(
            f'{"PASS" if ratio >= ACCEPTANCE_TARGET else "FAIL"}: PSEDetector(precision=\'bf16\') '
            f'whole call on a {ACCEPTANCE_IMAGE[0]}x{ACCEPTANCE_IMAGE[1]} file {ours:.0f} ms vs '
            f'MMOCR network forward at {ACCEPTANCE_NETWORK[0]}x{ACCEPTANCE_NETWORK[1]} '
            f'{theirs_ms:.0f} ms: {ratio:.2f}x (target >= {ACCEPTANCE_TARGET}x), 1 thread')
    print('\n' + '\n'.join(verdicts) if verdicts else '\n(no 1-thread row: targets not checked)')
    print(f'\nload average before {load_before}, after {os.getloadavg()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
