"""Test-time scale options through the API and tools/infer.py: limit_side_len / limit_type
reach the test resize, the cap holds for thin images (one warning line naming the file), tiles
are plumbed through, and bad values are one clear error."""
import glob
import json
import os.path as osp
import warnings

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmpse_ext.apis import PSEDetector
from mmpse_ext.apis.scale_options import find_test_resize, network_input_cap, with_test_scale
from mmpse_ext.datasets import InputSizeCapWarning

pytestmark = pytest.mark.usefixtures('single_thread')


def _network_input_hw(detector, image):
    """(H, W) of the network input the detector's test pipeline makes of ``image``."""
    return tuple(detector.array_pipeline(detector._array_results(image, 0))['inputs'].shape[-2:])


def test_with_test_scale_copies_and_keeps_the_original(random_small_model):
    config, _ = random_small_model
    cfg = Config.fromfile(config)
    assert with_test_scale(cfg) is cfg
    changed = with_test_scale(cfg, limit_side_len=960, limit_type='max')
    assert find_test_resize(changed)['limit_type'] == 'max'
    assert find_test_resize(changed)['limit_side_len'] == 960
    assert find_test_resize(cfg)['limit_type'] == 'min'  # untouched
    assert find_test_resize(cfg)['limit_side_len'] == 320
    assert network_input_cap(cfg) == dict(max_pixels=4096 * 1024, max_side=4096)
    # a config whose test pipeline has no LimitSideResize: the option cannot be applied
    cfg.test_dataloader.dataset.pipeline[1] = dict(
        type='mmpse_ext.MinShortSideResize', min_short_side=320, size_divisor=32)
    with pytest.raises(ValueError, match='no mmpse_ext.LimitSideResize'):
        with_test_scale(cfg, limit_type='max')


def test_detector_options_reach_the_test_resize(random_small_model):
    config, checkpoint = random_small_model
    image = np.zeros((640, 960, 3), np.uint8)
    default = PSEDetector(config, checkpoint, device='cpu')
    assert _network_input_hw(default, image) == (640, 960)  # 'min' 320: kept
    photo = PSEDetector(config, checkpoint, device='cpu', limit_type='max', limit_side_len=320)
    # PaddleOCR's DetResizeForTest(limit_type='max', 320): 960 -> 320, 640 -> 213 -> 224
    assert _network_input_hw(photo, image) == (224, 320)
    with pytest.raises(ValueError, match='limit_type'):
        PSEDetector(config, checkpoint, device='cpu', limit_type='short')(image)
    with pytest.raises(ValueError, match='multiple of 32'):
        PSEDetector(config, checkpoint, device='cpu', tile=1000)


@pytest.mark.parametrize('hw', [(3, 2000), (700, 20)])
def test_thin_images_are_capped_and_detected(random_small_model, hw):
    """The 'min' rule alone makes 2000x3 into 320x213,333 (736x490,656 with the flagship)."""
    config, checkpoint = random_small_model
    detector = PSEDetector(config, checkpoint, device='cpu')
    image = np.full((*hw, 3), 200, np.uint8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        height, width = _network_input_hw(detector, image)
        detection = detector(image)[0]
    assert height * width <= 4096 * 1024 and max(height, width) <= 4096
    assert max(height, width) == 4096  # the long side is the one capped
    assert len([w for w in caught if w.category is InputSizeCapWarning]) == 2  # one per run
    assert detection.source == 0 and detection.scores.shape == (len(detection.polygons), )


def _infer_tool():
    """tools/infer.py as a module."""
    import importlib.util
    path = osp.join(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools', 'infer.py')
    spec = importlib.util.spec_from_file_location('infer_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_infer_tool_refuses_bad_scale_options(random_small_model, tmp_path, capsys):
    config, checkpoint = random_small_model
    image = str(tmp_path / 'x.png')
    cv2.imwrite(image, np.zeros((64, 64, 3), np.uint8))
    infer = _infer_tool()
    common = [
        image, '--config', config, '--checkpoint', checkpoint, '--out-dir',
        str(tmp_path / 'out')
    ]
    assert infer.main(common + ['--tile', '1000']) == 1
    assert capsys.readouterr().err.strip() == (
        'ERROR: tile must be a positive multiple of 32, got 1000')
    for bad in (['--limit-side-len', '0'], ['--limit-type', 'short']):
        with pytest.raises(SystemExit) as exit_info:
            infer.main(common + bad)
        assert exit_info.value.code == 2
        assert bad[0] in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()


@pytest.mark.slow
def test_infer_tool_options(trained_model, synthetic_root, tmp_path, python_tool):
    """--limit-type/--limit-side-len/--tile give the API's results; a thin strip is capped with
    one WARNING line naming it."""
    config, checkpoint = trained_model
    images = sorted(glob.glob(osp.join(synthetic_root, 'ch4_test_images', '*.jpg')))
    inputs = tmp_path / 'in'
    inputs.mkdir()
    for index, path in enumerate(images):
        cv2.imwrite(str(inputs / f'img_{index}.png'), cv2.imread(path))
    large = np.concatenate(
        [np.concatenate([cv2.resize(cv2.imread(p), (320, 320)) for p in images], 1)] * 2,
        0)  # 640 x 1280
    cv2.imwrite(str(inputs / 'large.png'), large)
    cv2.imwrite(str(inputs / 'strip.png'), np.full((3, 2000, 3), 220, np.uint8))
    out_dir = tmp_path / 'out'
    options = ['--limit-type', 'max', '--limit-side-len', '288', '--tile', '320']
    result = python_tool([
        'tools/infer.py',
        str(inputs), '--config', config, '--checkpoint', checkpoint, '--out-dir',
        str(out_dir), '--no-vis'
    ] + options)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert 'WARNING' not in result.stderr  # 'max' 288 and the tiles stay under the cap
    detector = PSEDetector(
        config, checkpoint, device='cpu', limit_type='max', limit_side_len=288, tile=320)
    names = ['img_0', 'img_1', 'img_2', 'img_3', 'large', 'strip']
    detections = detector([str(inputs / f'{name}.png') for name in names])
    assert sum(len(d.polygons) for d in detections) >= 3  # the comparison compares something
    for name, detection in zip(names, detections):
        with open(out_dir / 'preds' / f'{name}.json') as f:
            written = json.load(f)
        assert written['polygons'] == [p.reshape(-1).round(2).tolist()
                                       for p in detection.polygons], name

    # the recipe's rule on the strip: capped, one line naming the file and the size used
    result = python_tool([
        'tools/infer.py',
        str(inputs / 'strip.png'), '--config', config, '--checkpoint', checkpoint, '--out-dir',
        str(tmp_path / 'strip'), '--no-vis'
    ])
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    warning_lines = [line for line in result.stderr.splitlines() if 'WARNING' in line]
    assert len(warning_lines) == 1 and warning_lines[0].startswith('WARNING: ')
    assert str(inputs / 'strip.png') in warning_lines[0] and '4096x32' in warning_lines[0]
    assert 'Traceback' not in result.stderr
