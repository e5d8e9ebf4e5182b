import cv2
import numpy as np
import pytest
from shapely.geometry import Polygon

from mmpse_ext.datasets.parsers import BadDataLog, read_icdar_gt_file
from mmpse_ext.datasets.synthetic import make_scene
from mmpse_ext.datasets.synthetic.fonts import find_fonts
from mmpse_ext.datasets.synthetic.scene import TextRegion
from mmpse_ext.datasets.synthetic.writers import icdar_quad, write_icdar_gt


@pytest.fixture(scope='module')
def scenes():
    fonts = find_fonts()
    return [make_scene(np.random.default_rng([0, i]), 360, 480, fonts) for i in range(8)]


def test_scenes_are_deterministic():
    fonts = find_fonts()
    a_img, a_regions = make_scene(np.random.default_rng([4, 2]), 200, 300, fonts)
    b_img, b_regions = make_scene(np.random.default_rng([4, 2]), 200, 300, fonts)
    np.testing.assert_array_equal(a_img, b_img)
    assert [r.text for r in a_regions] == [r.text for r in b_regions]
    for a, b in zip(a_regions, b_regions):
        np.testing.assert_array_equal(a.points, b.points)


def test_regions_are_valid_polygons_inside_the_image(scenes):
    for img, regions in scenes:
        assert img.shape == (360, 480, 3) and img.dtype == np.uint8
        assert len(regions) >= 2
        for r in regions:
            assert Polygon(r.points).is_valid and Polygon(r.points).area > 10
            assert r.points.min() >= 0 and r.points[:, 0].max() <= 480
            assert r.points[:, 1].max() <= 360


def test_scenes_have_every_kind_of_region(scenes):
    regions = [r for _, rs in scenes for r in rs]
    assert any(len(r.points) > 4 for r in regions), 'no curved word'
    assert any(r.text == '###' for r in regions), 'no dont-care region'
    assert any(len(r.points) == 4 and not _is_rectangle(r.points) for r in regions), \
        'no perspective quad'
    touching = 0
    for _, rs in scenes:
        shapes = [Polygon(r.points) for r in rs]
        touching += sum(a.distance(b) < 0.5 for i, a in enumerate(shapes) for b in shapes[i + 1:])
    assert touching > 0, 'no touching instances'


def _is_rectangle(points):
    sides = np.roll(points, -1, axis=0) - points
    return all(
        abs(np.dot(sides[i], sides[(i + 1) % 4])) < 1e-3 * np.dot(sides[i], sides[i])
        for i in range(4))


def test_words_are_visible(scenes):
    """Legible words have strokes: high luminance spread inside the word box."""
    spreads = []
    for img, regions in scenes:
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        for r in regions:
            if r.text == '###':
                continue
            mask = np.zeros(gray.shape, np.uint8)
            cv2.fillPoly(mask, [np.round(r.points).astype(np.int32)], 1)
            spreads.append(gray[mask > 0].std())
    assert np.median(spreads) > 30 and np.mean(np.array(spreads) > 15) > 0.9


def test_curved_words_become_their_min_area_quad_in_raw_icdar(tmp_path):
    arc = np.array([[0, 10], [20, 4], [40, 2], [60, 4], [80, 10], [80, 30], [60, 24], [40, 22],
                    [20, 24], [0, 30]], np.float64) + 5
    quad = icdar_quad(TextRegion(arc, 'arc'))
    assert quad.shape == (4, 2)
    assert Polygon(quad).buffer(1.0).contains(Polygon(arc))
    x, y = quad[:, 0], quad[:, 1]
    assert np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) > 0  # clockwise on screen
    path = tmp_path / 'gt_img_1.txt'
    write_icdar_gt(str(path), [TextRegion(arc, '1,000'), TextRegion(arc[[0, 4, 5, 9]], '###')])
    log = BadDataLog()
    instances = read_icdar_gt_file(str(path), log)
    assert log.as_dict() == {}
    assert [(i['text'], i['ignore']) for i in instances] == [('1,000', False), ('###', True)]
