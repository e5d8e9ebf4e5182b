#!/usr/bin/env python
"""Peak resident memory of image → polygons with the flagship, one fresh process per case.

    python tools/analysis_tools/benchmark_memory.py [--cases 736x1280 photo photo-max strip]
        [--threads 1] [--backend pytorch] [--config configs/pse_r50vd_icdar15.py]

Each case runs ``PSEDetector(config, weights)([image_file])`` on the CPU in its own Python
process and reports that process's peak resident set size (``ru_maxrss``), before the image
(imports + model) and in all, with the network input size the test resize chose and the
wall time. ``--backend onnxruntime`` exports the network to ONNX once (not measured) and runs
that. The weights are random (no trained R50 weights exist offline): memory does not depend
on them. Cases (add ``WxH`` for any other size, with ``:tile=N``, ``:max=N`` (limit_type max) or
``:cap=off`` (no network-input cap, to size the cap) appended for options):

* ``736x1280``: a synthetic scene at the flagship's ICDAR2015 test size (no resize);
* ``photo``: a 4032×3024 photo-sized scene with the config's test resize (short side 736 keeps
  its pixels: 12.1 MP, over the network-input cap, so the cap decides the size);
* ``photo-max``: the same with ``limit_type='max'``, ``limit_side_len=960``;
* ``photo-tile``: the same in 1024 × 1024 tiles at its own pixel size (``tile=1024``);
* ``strip``: a 2000×3 strip (the ``'min'`` rule alone would make it 736×490,656).

Prints one table row per case and the load average before and after.
"""
import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'pse_r50vd_icdar15.py')
NAMED_CASES = {
    '736x1280': dict(size=(1280, 736)),
    'photo': dict(size=(4032, 3024)),
    'photo-max': dict(size=(4032, 3024), limit_type='max', limit_side_len=960),
    'photo-tile': dict(size=(4032, 3024), tile=1024),
    'strip': dict(size=(2000, 3)),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--cases', nargs='+', default=['736x1280', 'photo', 'photo-max', 'strip'])
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument(
        '--threads', type=int, default=1, help='intra-op threads (torch, or ONNX Runtime)')
    parser.add_argument('--backend', choices=('pytorch', 'onnxruntime'), default='pytorch')
    parser.add_argument('--child', default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def parse_case(name: str) -> dict:
    """``photo`` / ``WxH`` / ``WxH:tile=N`` / ``WxH:max=N`` / ``WxH:cap=off`` → options."""
    if name in NAMED_CASES:
        return dict(NAMED_CASES[name])
    size, *options = name.split(':')
    width, height = (int(v) for v in size.lower().split('x'))
    case = dict(size=(width, height))
    for option in options:
        key, value = option.split('=')
        if key == 'tile':
            case['tile'] = int(value)
        elif key == 'max':
            case.update(limit_type='max', limit_side_len=int(value))
        elif key == 'cap' and value == 'off':
            case['cap'] = 'off'
        else:
            raise ValueError(f'case {name!r}: unknown option {option!r}')
    return case


def make_image(path: str, width: int, height: int, seed: int = 0) -> None:
    """A synthetic scene (text on a textured background) of ``width × height``; thin sizes are
    cut from a larger scene."""
    import cv2
    import numpy as np

    from mmpse_ext.datasets.synthetic import make_scene
    from mmpse_ext.datasets.synthetic.fonts import find_fonts
    rng = np.random.default_rng(seed)
    scene_h, scene_w = max(height, 64), max(width, 64)
    shrink = max(1, max(scene_h, scene_w) // 1024)  # draw large scenes small, then enlarge
    image, _ = make_scene(rng, scene_h // shrink, scene_w // shrink, find_fonts())
    image = cv2.resize(image, (scene_w, scene_h), interpolation=cv2.INTER_LINEAR)
    cv2.imwrite(path, image[:height, :width])


def random_weights(config: str, path: str, onnx_path: str = None) -> None:
    """The config's model with seeded random weights, saved as a plain state dict (and
    exported to ``onnx_path`` if given)."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmocr.registry import MODELS

    import mmpse_ext  # noqa: F401
    init_default_scope('mmocr')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model).eval()
    torch.save(model.state_dict(), path)
    if onnx_path:
        from mmpse_ext.apis import PSELogitsNetwork, export_onnx
        export_onnx(PSELogitsNetwork(model).eval(), onnx_path)


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (Linux: ``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(spec: dict) -> dict:
    """Run one case in this process; returns the measurements."""
    import torch
    torch.set_num_threads(spec['threads'])
    from mmengine.config import Config

    from mmpse_ext.apis import PSEDetector
    from mmpse_ext.apis.scale_options import find_test_resize
    config = Config.fromfile(spec['config'])
    if spec.get('cap') == 'off':
        find_test_resize(config).update(max_pixels=None, max_side=None)
    detector = PSEDetector(
        config,
        spec['weights'],
        device='cpu',
        backend=spec['backend'],
        num_threads=spec['threads'],
        limit_side_len=spec.get('limit_side_len'),
        limit_type=spec.get('limit_type'),
        tile=spec.get('tile'))
    before = peak_rss_mib()
    start = time.perf_counter()
    detection = detector([spec['image']])[0]
    seconds = time.perf_counter() - start
    peak = peak_rss_mib()
    if spec.get('tile') and detector.tiling.is_large(spec['image']):
        network_input = f'tiles of {spec["tile"]}'
    else:
        shape = detector.file_pipeline(dict(img_path=spec['image']))['inputs'].shape
        network_input = f'{shape[2]}x{shape[1]}'
    return dict(
        before_mib=before,
        peak_mib=peak,
        seconds=seconds,
        network_input=network_input,
        detections=len(detection.polygons))


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    cases = [(name, parse_case(name)) for name in args.cases]
    load_before = os.getloadavg()
    print(f'{os.cpu_count()} CPUs, load average {load_before}; config {args.config}, '
          f'{args.backend}, {args.threads} thread(s), random weights')
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([REPO] +
                                        ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        weights = osp.join(tmp, 'random.pth')
        onnx_file = osp.join(tmp, 'random.onnx') if args.backend == 'onnxruntime' else None
        random_weights(args.config, weights, onnx_file)
        for name, case in cases:
            width, height = case['size']
            image = osp.join(tmp, f'{width}x{height}.png')
            if not osp.exists(image):
                make_image(image, width, height)
            spec = dict(
                case,
                config=args.config,
                weights=onnx_file or weights,
                image=image,
                threads=args.threads,
                backend=args.backend)
            result = subprocess.run([sys.executable, __file__, '--child',
                                     json.dumps(spec)],
                                    capture_output=True,
                                    text=True,
                                    env=env)
            if result.returncode != 0:
                print(f'{name}: failed (exit {result.returncode}):\n{result.stderr[-2000:]}')
                continue
            row = json.loads(result.stdout.strip().splitlines()[-1])
            keys = ('limit_type', 'limit_side_len', 'tile', 'cap')
            options = ', '.join(f'{k}={case[k]}' for k in keys if k in case)
            options = options or "config's test resize"
            rows.append((name, f'{width}x{height}', options, row))
            print(f'{name}: {row}', flush=True)
    print('\n| case | image | options | network input | peak RSS before the image (MiB) | '
          'peak RSS (MiB) | s | detections |\n|---|---|---|---|---|---|---|---|')
    for name, size, options, row in rows:
        print(f'| {name} | {size} | {options} | {row["network_input"]} | '
              f'{row["before_mib"]:.0f} | {row["peak_mib"]:.0f} | {row["seconds"]:.1f} | '
              f'{row["detections"]} |')
    print(f'\nload average before {load_before}, after {os.getloadavg()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
