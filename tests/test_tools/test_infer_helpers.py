"""tools/infer.py helpers: input expansion, ICDAR submission quads, checkpoint loading."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'pse_r18_synthetic_demo.py')


@pytest.fixture(scope='module')
def infer(load_tool):
    return load_tool('infer')


def icdar_clockwise(quad):
    """The official ICDAR2015 script's check (rrc_evaluation_funcs.validate_clockwise_points)."""
    x, y = quad[:, 0], quad[:, 1]
    return np.sum((np.roll(x, -1) - x) * (np.roll(y, -1) + y)) <= 0


@pytest.mark.parametrize('points', [
    [[0, 0], [10, 0], [10, 5], [0, 5]],           # clockwise on screen already
    [[0, 0], [0, 5], [10, 5], [10, 0]],           # counter-clockwise
    [[2.4, 1.6], [12.5, 3.2], [11.6, 8.4], [1.5, 6.5]],
])
def test_quads_become_clockwise_integer_corners(infer, points):
    quad = infer.clockwise_quad(np.array(points, dtype=np.float32))
    assert quad.shape == (4, 2) and quad.dtype == np.int64
    assert icdar_clockwise(quad)
    assert {tuple(p) for p in quad} == {tuple(p) for p in np.rint(points).astype(int)}


def test_polygon_reduced_to_min_area_rectangle(infer):
    # an axis-aligned 20x6 box traced with 8 points (a 'poly' postprocessor output)
    poly = np.array([[0, 0], [10, 0], [20, 0], [20, 3], [20, 6], [10, 6], [0, 6], [0, 3]],
                    dtype=np.float32)
    quad = infer.clockwise_quad(poly)
    assert icdar_clockwise(quad)
    assert {tuple(p) for p in quad} == {(0, 0), (20, 0), (20, 6), (0, 6)}


def test_collect_images_file_folder_glob_and_errors(infer, tmp_path):
    for name in ('b.jpg', 'a.png', 'notes.txt'):
        (tmp_path / name).write_bytes(b'x')
    sub = tmp_path / 'sub'
    sub.mkdir()
    (sub / 'c.JPG').write_bytes(b'x')
    folder = infer.collect_images([str(tmp_path)])
    assert folder == [str(tmp_path / 'a.png'), str(tmp_path / 'b.jpg')]  # sorted, no .txt, flat
    assert infer.collect_images([str(sub / 'c.JPG')]) == [str(sub / 'c.JPG')]
    globbed = infer.collect_images([str(tmp_path / '*.jpg'), str(tmp_path / 'b.jpg')])
    assert globbed == [str(tmp_path / 'b.jpg')]  # de-duplicated
    with pytest.raises(FileNotFoundError, match='nothing_here'):
        infer.collect_images([str(tmp_path / 'nothing_here*.jpg')])


def test_draw_polygons_marks_only_the_outline(infer):
    image = np.zeros((40, 60, 3), np.uint8)
    drawn = infer.draw_polygons(image, [np.array([[10, 10], [50, 10], [50, 30], [10, 30]])])
    assert image.sum() == 0  # input untouched
    assert tuple(drawn[10, 30]) == (0, 255, 0) and tuple(drawn[20, 30]) == (0, 0, 0)


def test_inference_pipeline_drops_annotation_loading(infer):
    cfg = Config.fromfile(DEMO_CONFIG)
    init_default_scope(cfg.default_scope)
    names = [type(t).__name__ for t in infer.build_inference_pipeline(cfg).transforms]
    expected = [t.type.split('.')[-1] for t in cfg.test_dataloader.dataset.pipeline]
    assert 'LoadOCRAnnotations' in expected
    expected.remove('LoadOCRAnnotations')
    assert names == expected


@pytest.fixture(scope='module')
def demo_model_state():
    from mmocr.registry import MODELS
    init_default_scope('mmocr')
    cfg = Config.fromfile(DEMO_CONFIG)
    torch.manual_seed(0)
    return cfg, MODELS.build(cfg.model).state_dict()


def test_load_model_accepts_bare_state_dict_like_converted_paddle(infer, demo_model_state,
                                                                   tmp_path):
    cfg, state = demo_model_state
    # converted Paddle weights: a bare state dict without BN's num_batches_tracked
    bare = {k: v for k, v in state.items() if not k.endswith('num_batches_tracked')}
    torch.save(bare, tmp_path / 'converted.pth')
    model = infer.load_model(cfg, str(tmp_path / 'converted.pth'), 'cpu')
    assert not model.training
    for key, value in bare.items():
        assert torch.equal(model.state_dict()[key], value), key
    # a Runner checkpoint (state_dict + meta) of a DDP-wrapped model
    torch.save(dict(meta=dict(epoch=1), state_dict={f'module.{k}': v for k, v in state.items()}),
               tmp_path / 'runner.pth')
    infer.load_model(cfg, str(tmp_path / 'runner.pth'), 'cpu')


def test_load_model_rejects_mismatched_weights(infer, demo_model_state, tmp_path):
    cfg, state = demo_model_state
    wrong = dict(state)
    wrong.pop('det_head.out_conv.weight')
    wrong['head.conv2.weight'] = torch.zeros(1)
    torch.save(wrong, tmp_path / 'wrong.pth')
    with pytest.raises(RuntimeError, match=r'1 missing keys.*det_head.out_conv.weight.*'
                                           r'1 unexpected keys.*head.conv2.weight'):
        infer.load_model(cfg, str(tmp_path / 'wrong.pth'), 'cpu')
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        infer.load_model(cfg, str(tmp_path / 'absent.pth'), 'cpu')
