"""LimitSideResize: the recipe's 'min' sizes unchanged, PaddleOCR's DetResizeForTest rules
(checked against Paddle's own file), and a network-input cap that holds for any image."""
import types
import warnings

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose

from mmpse_ext.datasets.transforms import InputSizeCapWarning, LimitSideResize, MinShortSideResize

QUAD = [40, 30, 200, 40, 195, 110, 35, 100]
NO_CAP = dict(max_pixels=None, max_side=None)
#: (height, width) on a grid from thin strips to photos; ICDAR2015's 720x1280 included.
SIZES = [(h, w) for h in (3, 9, 20, 31, 100, 333, 480, 720, 736, 1080, 2000, 3024)
         for w in range(7, 4100, 23)] + [(720, 1280), (1280, 720), (3, 2000), (700, 20)]


def _image(h, w, path='img.png'):
    return dict(
        img=np.zeros((h, w, 3), np.uint8), img_shape=(h, w), ori_shape=(h, w), img_path=path)


@pytest.fixture(scope='module')
def paddle_det_resize():
    """PaddleOCR's ``DetResizeForTest`` (``ppocr/data/imaug/operators.py``) as a function
    ``(h, w, limit_side_len, limit_type) -> (w, h)``; its ``cv2.resize`` only allocates an
    empty array of the asked size, so sizes can be checked without drawing images."""
    import importlib.util
    import os.path as osp
    spec = importlib.util.find_spec('paddleocr')
    if spec is None:
        pytest.fail('PaddleOCR reference code missing: pip install --no-deps paddleocr==2.10.0')
    path = osp.join(
        list(spec.submodule_search_locations)[0], 'ppocr', 'data', 'imaug', 'operators.py')
    module_spec = importlib.util.spec_from_file_location('paddle_reference_operators', path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    module.cv2 = types.SimpleNamespace(resize=lambda img, size: np.empty((size[1], size[0], 0)))

    def resize(h, w, limit_side_len, limit_type):
        op = module.DetResizeForTest(limit_side_len=limit_side_len, limit_type=limit_type)
        out = op(dict(image=np.empty((h, w, 3), np.uint8)))
        assert out['shape'][2] == out['image'].shape[0] / h  # ratio_h = new_h / h
        return out['image'].shape[1], out['image'].shape[0]

    return resize


def test_min_rule_keeps_the_recipe_sizes():
    """limit_type='min' = MinShortSideResize(736, size_divisor=32), the recipe's test resize
    before this transform existed, on every size (the cap off)."""
    ours, before = LimitSideResize(736, 'min', 32, **NO_CAP), MinShortSideResize(736, 32)
    for h, w in SIZES:
        assert ours.target_size(h, w) == before.target_size(h, w), (h, w)


@pytest.mark.parametrize('hw', [(720, 1280), (1280, 720), (300, 500), (1000, 810), (10, 12)])
def test_min_rule_gives_the_same_image_and_scale_factor(hw):
    """Including the default cap: the recipe's images are far below it."""
    ours = LimitSideResize(736, 'min', 32)(_image(*hw))
    before = MinShortSideResize(736, 32)(_image(*hw))
    assert ours['img'].shape == before['img'].shape
    assert ours['img_shape'] == before['img_shape']
    assert ours['scale_factor'] == before['scale_factor']


@pytest.mark.parametrize('limit_type, limit_side_len', [('min', 736), ('max', 960), ('max', 736),
                                                        ('resize_long', 960),
                                                        ('resize_long', 1600)])
def test_rules_are_paddles_det_resize_for_test(paddle_det_resize, limit_type, limit_side_len):
    """rounding='down' is Paddle's arithmetic exactly; the default ('half_up', the recipe's)
    differs from it by one 32-pixel step on a few sizes. Paddle first pads images with
    h + w < 64 to 32 x 32 (not done here), so those sizes are left out."""
    exact = LimitSideResize(limit_side_len, limit_type, 32, rounding='down', **NO_CAP)
    default = LimitSideResize(limit_side_len, limit_type, 32, **NO_CAP)
    sizes = [(h, w) for h, w in SIZES if h + w >= 64]
    differ = 0
    for h, w in sizes:
        theirs = paddle_det_resize(h, w, limit_side_len, limit_type)
        assert exact.target_size(h, w) == theirs, (h, w)
        ours = default.target_size(h, w)
        if ours != theirs:
            differ += 1
            assert max(abs(a - b) for a, b in zip(ours, theirs)) == 32, (h, w, ours, theirs)
    assert differ <= 0.02 * len(sizes)
    if (limit_type, limit_side_len) == ('min', 736):  # the recipe: ICDAR2015's size agrees
        assert paddle_det_resize(720, 1280, 736, 'min') == default.target_size(720, 1280)


@pytest.mark.parametrize('hw', [(3, 2000), (2000, 3), (700, 20), (20, 700), (3024, 4032),
                                (1, 100000), (9000, 9000)])
@pytest.mark.parametrize('limit_type', ['min', 'max', 'resize_long'])
def test_the_cap_holds_whatever_the_rule(hw, limit_type):
    t = LimitSideResize(736, limit_type, 32, max_pixels=2048 * 2048, max_side=4096)
    rule_w, rule_h = LimitSideResize(736, limit_type, 32, **NO_CAP).target_size(*hw)
    new_w, new_h = t.target_size(*hw)
    assert new_w * new_h <= 2048 * 2048 and max(new_w, new_h) <= 4096
    assert new_w % 32 == 0 and new_h % 32 == 0 and min(new_w, new_h) >= 32
    if rule_w * rule_h <= 2048 * 2048 and max(rule_w, rule_h) <= 4096:
        assert (new_w, new_h) == (rule_w, rule_h)  # nothing to cap
    else:  # shrunk, the long side stays the long side, and not far below the cap
        assert new_w <= rule_w and new_h <= rule_h
        assert (new_w >= new_h) == (rule_w >= rule_h) or new_w == new_h
        assert max(new_w, new_h) > 4096 - 64 or new_w * new_h > 0.85 * 2048 * 2048


def test_thin_strip_is_capped_with_one_warning_naming_file_and_size(geo):
    """The 2000x3 strip that became 736x490,656 under the 'min' rule alone."""
    results = _image(3, 2000, path='scans/strip.png')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        out = LimitSideResize(736, 'min', 32, max_pixels=2048 * 2048, max_side=4096)(results)
    assert out['img'].shape == (32, 4096, 3)
    assert out['scale_factor'] == pytest.approx((4096 / 2000, 32 / 3))
    capped = [w for w in caught if issubclass(w.category, InputSizeCapWarning)]
    assert len(capped) == 1
    message = str(capped[0].message)
    assert 'scans/strip.png' in message and '4096x32' in message and '490656x736' in message


def test_no_warning_below_the_cap():
    with warnings.catch_warnings():
        warnings.simplefilter('error', InputSizeCapWarning)
        out = LimitSideResize(736, 'min', 32)(_image(720, 1280))
    assert out['img'].shape[:2] == (736, 1312)


def test_capped_polygons_move_with_pixels_and_map_back(geo):
    """A capped resize is an ordinary resize: pixels, polygons and scale_factor agree."""
    t = LimitSideResize(736, 'min', 32, max_pixels=400 * 300, max_side=4096)
    with pytest.warns(InputSizeCapWarning):
        out = t(geo.drawn_polygon_results(150, 250, [QUAD]))
    assert out['img'].shape[0] * out['img'].shape[1] <= 400 * 300
    geo.assert_polygons_follow_pixels(out)
    drawn = geo.drawn_polygon_results(150, 250, [QUAD])
    with pytest.warns(InputSizeCapWarning):
        out = t(dict(drawn, gt_polygons=None, gt_bboxes=None))
    white = out['img'][..., 0] > 127
    seen = np.array(QUAD, np.float64).reshape(-1, 2) * out['scale_factor']
    assert geo.iou(white, geo.polygon_mask(white.shape, [seen])) > 0.9


@pytest.mark.parametrize('config',
                         ['configs/pse_r50vd_icdar15.py', 'configs/pse_r18_synthetic_demo.py'])
def test_configs_use_it_and_cfg_options_reach_it(config):
    cfg = Config.fromfile(config)
    steps = cfg.test_dataloader.dataset.pipeline
    assert steps[1]['type'] == 'mmpse_ext.LimitSideResize'
    before = MinShortSideResize(steps[1]['limit_side_len'], 32)
    built = Compose([steps[1]]).transforms[0]
    for hw in [(720, 1280), (300, 500), (1000, 810)]:
        assert built.target_size(*hw) == before.target_size(*hw)
    # what tools/test.py --cfg-options does with these keys
    cfg.merge_from_dict(
        {
            'test_dataloader.dataset.pipeline.1.limit_type': 'max',
            'test_dataloader.dataset.pipeline.1.limit_side_len': 960
        },
        allow_list_keys=True)
    built = Compose([cfg.test_dataloader.dataset.pipeline[1]]).transforms[0]
    assert built.target_size(3024, 4032) == (960, 704)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match='limit_type'):
        LimitSideResize(736, 'short')
    with pytest.raises(ValueError, match='limit_side_len'):
        LimitSideResize(0)
    with pytest.raises(ValueError, match='max_side'):
        LimitSideResize(736, max_side=16)
    with pytest.raises(ValueError, match='max_pixels'):
        LimitSideResize(736, max_pixels=100)
    with pytest.raises(ValueError, match='rounding'):
        LimitSideResize(736, rounding='up')
