import numpy as np
import pytest

from mmpse_ext.datasets.transforms import RandomRotateKeepSize

QUAD = [120, 80, 260, 95, 255, 140, 115, 125]


@pytest.mark.parametrize('angle', [-10.0, -3.3, 0.0, 7.5, 10.0, 35.0])
def test_polygons_move_with_pixels(geo, angle):
    results = RandomRotateKeepSize(
        max_angle=10).rotate(geo.drawn_polygon_results(240, 360, [QUAD]), angle)
    assert results['img'].shape[:2] == (240, 360)  # size kept
    assert results['rotated_angle'] == angle
    geo.assert_polygons_follow_pixels(results)
    np.testing.assert_allclose(
        results['gt_bboxes'][0, :2], results['gt_polygons'][0].reshape(-1, 2).min(0), atol=1e-4)


def test_positive_angle_is_counter_clockwise(geo):
    # a point right of the centre moves up (smaller y) for a positive angle
    results = geo.drawn_polygon_results(200, 200, [[150, 95, 160, 95, 160, 105, 150, 105]])
    out = RandomRotateKeepSize().rotate(results, 20.0)
    assert out['gt_polygons'][0][1::2].mean() < 100 - 10


def test_random_angle_within_limit(geo):
    np.random.seed(1)
    transform = RandomRotateKeepSize(max_angle=10)
    angles = [
        transform(geo.drawn_polygon_results(100, 100, [QUAD]))['rotated_angle'] for _ in range(50)
    ]
    assert max(abs(a) for a in angles) <= 10 and np.ptp(angles) > 10


def test_instances_rotated_out_of_the_image_are_dropped(geo):
    corner = [0, 0, 8, 0, 8, 8, 0, 8]
    middle = [180, 40, 220, 40, 220, 60, 180, 60]
    results = geo.drawn_polygon_results(100, 400, [corner, middle], ignored=[False, True])
    results['gt_texts'] = ['corner', 'middle']
    out = RandomRotateKeepSize().rotate(results, 60.0)
    assert out['gt_texts'] == ['middle']
    assert len(out['gt_polygons']) == 1 and out['gt_bboxes'].shape == (1, 4)
    assert out['gt_ignored'].tolist() == [True] and out['gt_bboxes_labels'].shape == (1, )
