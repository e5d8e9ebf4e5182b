"""Shared fixtures for the data tests: tiny synthetic ICDAR2015 and curved-text sets, geometry
helpers and PaddleOCR's own target and crop code (the reference for the recipe's defaults)."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import DefaultScope

from mmpse_ext.datasets.synthetic import make_synthetic_curved, make_synthetic_icdar2015
from mmpse_ext.datasets.transforms._utils.polygon_raster import fill_polygons


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """6 train + 2 test synthetic images of 160-240 px, in all three formats."""
    root = tmp_path_factory.mktemp('synthetic_icdar2015')
    make_synthetic_icdar2015(
        str(root),
        num_train=6,
        num_test=2,
        size_range=(160, 240),
        seed=3,
        progress=lambda line: None)
    return root


@pytest.fixture(scope='session')
def curved_root(tmp_path_factory):
    """4 train + 2 test synthetic curved-text images of 200-280 px, in the CTW1500 and
    Total-Text layouts."""
    root = tmp_path_factory.mktemp('synthetic_curved')
    make_synthetic_curved(
        str(root),
        num_train=4,
        num_test=2,
        size_range=(200, 280),
        seed=2,
        progress=lambda line: None)
    return root


@pytest.fixture(autouse=True)
def mmocr_scope():
    """Build unscoped transform names (LoadImageFromFile, RandomFlip …) from mmocr, and put
    the previous default scope back afterwards (other test folders may rely on theirs)."""
    with DefaultScope.overwrite_default_scope('mmocr'):
        yield


def polygon_mask(shape, polygons) -> np.ndarray:
    """Boolean mask of polygons (continuous coordinates) on an ``(H, W)`` canvas."""
    canvas = np.zeros(shape, np.uint8)
    fill_polygons(canvas, [np.asarray(p, np.float64) for p in polygons], 1)
    return canvas.astype(bool)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean masks."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def drawn_polygon_results(height: int, width: int, polygons, ignored=None) -> dict:
    """Transform results whose image shows the polygons in white on black (3 channels)."""
    mask = polygon_mask((height, width), polygons)
    img = np.repeat((mask * 255).astype(np.uint8)[..., None], 3, axis=2)
    polygons = [np.asarray(p, np.float32) for p in polygons]
    n = len(polygons)
    boxes = np.array([[p[0::2].min(), p[1::2].min(), p[0::2].max(), p[1::2].max()]
                      for p in polygons], np.float32).reshape(-1, 4)
    return dict(
        img=img,
        img_shape=(height, width),
        ori_shape=(height, width),
        gt_polygons=polygons,
        gt_bboxes=boxes,
        gt_bboxes_labels=np.zeros(n, np.int64),
        gt_ignored=np.zeros(n, bool) if ignored is None else np.asarray(ignored, bool),
        img_path='drawn.png')


def assert_polygons_follow_pixels(results: dict, min_iou: float = 0.95) -> None:
    """Every polygon's mask matches the white pixels it was drawn as (IoU > min_iou)."""
    img = results['img']
    white = img[..., 0] > 127 if img.ndim == 3 else img > 127
    assert len(results['gt_polygons']) > 0
    drawn = polygon_mask(white.shape, results['gt_polygons'])
    assert white.any() and drawn.any()
    score = iou(white, drawn)
    assert score > min_iou, f'IoU {score:.4f} between transformed pixels and polygons'


@pytest.fixture
def geo():
    """The geometry helpers above, for tests in sub-folders (conftest is not importable)."""
    from types import SimpleNamespace
    return SimpleNamespace(
        polygon_mask=polygon_mask,
        iou=iou,
        drawn_polygon_results=drawn_polygon_results,
        assert_polygons_follow_pixels=assert_polygons_follow_pixels)


#: The PaddleOCR release whose ``ppocr/data/imaug`` files are the recipe's reference
#: (``pip install --no-deps paddleocr==2.10.0``; the two files need only cv2, numpy, pyclipper
#: and shapely, so paddle itself is not installed).
PADDLEOCR_SPEC = 'paddleocr==2.10.0'


def load_paddle_imaug(name: str):
    """Import ``paddleocr/ppocr/data/imaug/<name>.py`` by path, without paddleocr's package
    ``__init__`` (which imports paddle). Fails (not skips) when paddleocr is not installed."""
    spec = importlib.util.find_spec('paddleocr')
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(f'PaddleOCR reference code missing: pip install --no-deps {PADDLEOCR_SPEC}')
    path = osp.join(
        list(spec.submodule_search_locations)[0], 'ppocr', 'data', 'imaug', f'{name}.py')
    module_spec = importlib.util.spec_from_file_location(f'paddle_reference_{name}', path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def paddle_make_pse_gt():
    """PaddleOCR's ``MakePseGt`` class (``ppocr/data/imaug/make_pse_gt.py``)."""
    return load_paddle_imaug('make_pse_gt').MakePseGt


@pytest.fixture(scope='session')
def paddle_random_crop():
    """PaddleOCR's ``random_crop_data`` module (``RandomCropImgMask`` and its ``random``)."""
    return load_paddle_imaug('random_crop_data')
