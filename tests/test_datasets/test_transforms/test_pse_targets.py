import cv2
import numpy as np
import pytest
from shapely.geometry import Polygon

from mmpse_ext.datasets.transforms import (PAPER_SHRINK_RATIOS, PSETargets, paddle_shrink_ratios,
                                           shrink_distance)


def _results(h, w, polygons, ignored=None):
    n = len(polygons)
    return dict(img=np.zeros((h, w, 3), np.uint8),
                gt_polygons=[np.asarray(p, np.float32) for p in polygons],
                gt_ignored=np.zeros(n, bool) if ignored is None else np.array(ignored))


def _rect(x, y, w, h):
    return [x, y, x + w, y, x + w, y + h, x, y + h]


# a rotated quad, a perspective quad and a 14-point curved word
ROTATED = cv2.boxPoints(((120, 60), (150, 36), 17)).reshape(-1).tolist()
TRAPEZOID = [20, 120, 180, 110, 185, 170, 15, 150]
_u = np.linspace(-0.6, 0.6, 7)
CURVED = np.vstack([np.stack([230 + 140 * np.sin(_u), 320 - 140 * np.cos(_u)], 1),
                    np.stack([230 + 100 * np.sin(_u[::-1]), 320 - 100 * np.cos(_u[::-1])], 1)
                    ]).reshape(-1).tolist()


def test_shrink_distance_formula():
    # d = area * (1 - r^2) / perimeter (Paddle adds 1e-6 to the perimeter)
    assert shrink_distance(1200.0, 140.0, 0.5) == pytest.approx(1200 * 0.75 / 140, rel=1e-7)
    assert shrink_distance(1200.0, 140.0, 1.0) == 0.0


@pytest.mark.parametrize('k', range(7))
def test_rectangle_kernels_shrink_by_the_formula(k):
    x, y, w, h = 30.0, 20.0, 200.0, 60.0
    kernels = PSETargets()(_results(120, 260, [_rect(x, y, w, h)]))['gt_kernels']
    d = shrink_distance(w * h, 2 * (w + h), PAPER_SHRINK_RATIOS[k])
    rows = np.flatnonzero(kernels[k].any(axis=1))
    cols = np.flatnonzero(kernels[k].any(axis=0))
    # cv2 fills spans inclusively: a [a, b] span covers about b - a + 1 pixels, centred on it
    assert abs(len(cols) - (w - 2 * d + 1)) <= 1.0 and abs(len(rows) - (h - 2 * d + 1)) <= 1.0
    assert abs((cols[0] + cols[-1] + 1) / 2 - (x + w / 2)) <= 0.5
    assert abs(cols[0] + 0.5 - (x + d)) <= 1.0 and abs(rows[0] + 0.5 - (y + d)) <= 1.0
    # an inward offset keeps a rectangle's corners sharp
    expected_area = (w - 2 * d + 1) * (h - 2 * d + 1)
    assert abs(kernels[k].sum() - expected_area) <= (w + h)


@pytest.mark.parametrize('polygon', [ROTATED, TRAPEZOID, CURVED], ids=['rotated', 'trapezoid',
                                                                      'curved'])
def test_kernels_nested_and_strictly_decreasing(polygon):
    out = PSETargets()(_results(340, 400, [polygon]))
    kernels = out['gt_kernels']
    assert kernels.shape == (7, 340, 400) and kernels.dtype == np.uint8
    assert set(np.unique(kernels)) <= {0, 1}
    areas = kernels.reshape(7, -1).sum(1)
    assert all(a > b for a, b in zip(areas, areas[1:])), areas
    for k in range(6):
        assert not np.any(kernels[k + 1] & ~kernels[k].astype(bool)), f'kernel {k + 1} leaks'
    # the text map is the polygon itself (grown by ~half a pixel by cv2's inclusive spans)
    shape = Polygon(np.reshape(polygon, (-1, 2)))
    assert abs(areas[0] - shape.buffer(0.5, join_style=2).area) < 0.02 * areas[0]
    assert out['gt_train_mask'].all()


def test_ignored_polygons_are_zeroed_in_the_mask_and_not_drawn():
    text, dont_care = _rect(10, 10, 100, 30), _rect(10, 60, 100, 30)
    out = PSETargets()(_results(100, 150, [text, dont_care], ignored=[False, True]))
    mask, kernels = out['gt_train_mask'], out['gt_kernels']
    assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1}
    assert not mask[60:90, 10:110].any()           # the ### region is excluded from the loss
    assert mask[10:40, 10:110].all() and mask[95:, :].all()
    assert not kernels[:, 60:90, 10:110].any()      # and drawn in no channel
    assert kernels[0, 10:40, 10:110].all()


def test_polygon_whose_shrink_vanishes_becomes_ignored():
    # shrinking works at 1/16 px, so only (near) zero-area polygons vanish; they can appear
    # after augmentation (e.g. a tiny word scaled by 0.5)
    thin, collinear = _rect(10, 10, 120, 0.1), [10, 30, 50, 30, 90, 30, 50, 30]
    normal = _rect(10, 40, 120, 30)
    out = PSETargets()(_results(80, 150, [thin, collinear, normal]))
    assert out['gt_ignored'].tolist() == [True, True, False]
    assert not out['gt_kernels'][:, :35].any()
    assert not out['gt_train_mask'][10, 10:130].any()
    assert out['gt_kernels'][6, 50:60, 30:100].all()


def test_touching_instances_merge_in_text_map_but_not_in_smallest_kernel():
    left, right = _rect(20, 20, 80, 30), _rect(100, 20, 80, 30)  # share the edge x = 100
    kernels = PSETargets()(_results(80, 200, [left, right]))['gt_kernels']
    assert cv2.connectedComponents(kernels[0], connectivity=4)[0] - 1 == 1
    assert cv2.connectedComponents(kernels[6], connectivity=4)[0] - 1 == 2


def test_paddle_ratios_reproduced_exactly():
    ratios = paddle_shrink_ratios()
    # MakePseGt: rate_i = 1 - (1 - 0.4) / (7 - 1) * i, i = 1..7; text = map 1; kernels = maps 1..6
    expected = [1.0 - (1.0 - 0.4) / (7 - 1) * i for i in range(1, 8)]
    assert ratios == (expected[0], *expected[:6])
    assert ratios[0] == ratios[1] == pytest.approx(0.9) and ratios[-1] == pytest.approx(0.4)
    kernels = PSETargets(ratios)(_results(100, 260, [_rect(20, 20, 200, 50)]))['gt_kernels']
    np.testing.assert_array_equal(kernels[0], kernels[1])  # Paddle's text map is 0.9-shrunk
    assert kernels[0].sum() < 200 * 50 * 0.9


def test_no_polygons_gives_empty_targets():
    out = PSETargets()(_results(50, 60, []))
    assert out['gt_kernels'].shape == (7, 50, 60) and not out['gt_kernels'].any()
    assert out['gt_train_mask'].all()


@pytest.mark.parametrize('ratios', [(), (1.0, 1.2), (0.0,), (0.5, 0.9)])
def test_rejects_bad_ratios(ratios):
    with pytest.raises(ValueError, match='shrink_ratios'):
        PSETargets(ratios)
