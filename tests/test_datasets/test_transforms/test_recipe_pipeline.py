"""The recipe's train pipeline as a whole (configs/_base_/datasets): geometry end to end."""
import os.path as osp

import numpy as np
import pytest
from mmengine import Config
from mmengine.dataset import Compose

from mmpse_ext.datasets.transforms import paddle_shrink_ratios

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
QUADS = [[60, 60, 260, 80, 250, 140, 55, 120], [300, 200, 420, 190, 425, 240, 305, 250]]


def _geometric_train_steps(config_name):
    """The config's train pipeline after loading, without the colour jitter."""
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets', config_name))
    steps = cfg.train_dataloader.dataset.pipeline
    names = [s['type'] for s in steps]
    assert names[:3] == ['LoadImageFromFile', 'LoadOCRAnnotations', 'TorchVisionWrapper']
    assert names[-1] == 'mmpse_ext.PackPSEInputs'
    return steps[3:-1]


def test_mmocr_flip_moves_polygons_with_pixels(geo):
    flip = Compose([dict(type='RandomFlip', prob=1.0, direction='horizontal')])
    out = flip(geo.drawn_polygon_results(300, 480, QUADS))
    assert out['flip'] and out['gt_polygons'][0][0] == pytest.approx(480 - 60)
    geo.assert_polygons_follow_pixels(out)


@pytest.mark.parametrize('config_name', ['icdar2015.py', 'synthetic_icdar2015_demo.py'])
@pytest.mark.parametrize('seed', range(6))
def test_text_map_matches_the_drawn_words_after_every_step(geo, config_name, seed):
    np.random.seed(seed)
    pipeline = Compose(_geometric_train_steps(config_name))
    out = pipeline(geo.drawn_polygon_results(300, 480, QUADS))
    crop = (640, 640) if config_name == 'icdar2015.py' else (320, 320)
    assert out['img'].shape[:2] == crop[::-1]
    white = out['img'][..., 0] > 127
    text = out['gt_kernels'][0].astype(bool)
    if white.sum() > 300:  # crops may show only a sliver of a word
        assert geo.iou(white, text) > 0.95
        geo.assert_polygons_follow_pixels(out)
    else:
        assert text.sum() < 2 * 300 + 50


def test_recipe_sizes_are_parameters():
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/icdar2015.py'))
    demo = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/synthetic_icdar2015_demo.py'))
    by_type = {s['type']: s for s in cfg.train_dataloader.dataset.pipeline}
    assert by_type['mmpse_ext.RandomScale']['scale_range'] == (0.5, 3.0)
    assert by_type['mmpse_ext.RandomRotateKeepSize']['max_angle'] == 10
    assert by_type['mmpse_ext.MinShortSideResize']['min_short_side'] == 640
    assert by_type['mmpse_ext.TextAwareRandomCrop']['crop_size'] == (640, 640)
    assert by_type['mmpse_ext.TextAwareRandomCrop']['text_crop_prob'] == 5 / 8
    assert by_type['mmpse_ext.PSETargets']['shrink_ratios'] == (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4)
    test_resize = cfg.test_dataloader.dataset.pipeline[1]
    assert (test_resize['min_short_side'], test_resize['size_divisor']) == (736, 32)
    assert cfg.paddle_pse_shrink_ratios == paddle_shrink_ratios()  # bit-identical
    # the index given in the config's --cfg-options example
    assert cfg.train_dataloader.dataset.pipeline[8]['type'] == 'mmpse_ext.PSETargets'
    demo_types = {s['type']: s for s in demo.train_dataloader.dataset.pipeline}
    assert demo_types['mmpse_ext.TextAwareRandomCrop']['crop_size'] == (320, 320)
    assert demo.test_dataloader.dataset.pipeline[1]['min_short_side'] == 320
    assert demo.train_dataloader.dataset.data_root == 'data/synthetic_icdar2015'
