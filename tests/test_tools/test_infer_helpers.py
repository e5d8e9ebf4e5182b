"""tools/infer.py helpers: ICDAR submission quads and paths, drawings through MMOCR's
visualizer."""
import os.path as osp

import cv2
import numpy as np
import pytest


@pytest.fixture(scope='module')
def infer(load_tool):
    return load_tool('infer')


def icdar_clockwise(quad):
    """The official ICDAR2015 script's check (rrc_evaluation_funcs.validate_clockwise_points)."""
    x, y = quad[:, 0], quad[:, 1]
    return np.sum((np.roll(x, -1) - x) * (np.roll(y, -1) + y)) <= 0


@pytest.mark.parametrize(
    'points',
    [
        [[0, 0], [10, 0], [10, 5], [0, 5]],  # clockwise on screen already
        [[0, 0], [0, 5], [10, 5], [10, 0]],  # counter-clockwise
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


def test_submission_files_keep_the_folder_structure(infer, tmp_path):
    assert infer.submission_path('out', 'img_1') == osp.join('out', 'submit', 'res_img_1.txt')
    assert infer.submission_path('out',
                                 osp.join('a', 'b',
                                          'img_1')) == osp.join('out', 'submit', 'a', 'b',
                                                                'res_img_1.txt')
    square = np.array([[10, 10], [30, 10], [30, 20], [10, 20]], np.float32)
    for name in ('img_1', osp.join('sub', 'img_1')):
        infer.write_outputs(str(tmp_path), name, f'{name}.jpg', [square], np.array([0.9]))
    assert (tmp_path / 'preds' / 'img_1.json').is_file()
    assert (tmp_path / 'preds' / 'sub' / 'img_1.json').is_file()
    lines = (tmp_path / 'submit' / 'sub' / 'res_img_1.txt').read_text().splitlines()
    assert lines == ['10,10,30,10,30,20,10,20']


def test_drawings_come_from_mmocrs_visualizer(infer, tmp_path):
    image = np.full((40, 60, 3), 255, np.uint8)
    square = np.array([[10, 10], [50, 10], [50, 30], [10, 30]], np.float32)
    drawer = infer.PredictionDrawer()
    out_file = str(tmp_path / 'vis' / 'a' / 'img.png')
    drawer.draw(image, [square], np.array([0.1], np.float32), out_file)
    drawn = cv2.imread(out_file)
    assert drawn.shape == image.shape and image.min() == 255  # input untouched
    inside, outside = drawn[20, 30].astype(int), drawn[35, 5].astype(int)
    assert tuple(outside) == (255, 255, 255)
    # MMOCR's default prediction colour is red ('r'), filled with alpha: B and G drop, R stays
    assert inside[2] > 200 and inside[0] < 150 and inside[1] < 150
    # low scores are drawn too (infer filters with --score-thr before drawing)
    drawer.draw(image, [], np.zeros(0, np.float32), str(tmp_path / 'empty.png'))
    assert np.array_equal(cv2.imread(str(tmp_path / 'empty.png')), image)
