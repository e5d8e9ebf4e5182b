"""Flat polygons → shapely geometries (invalid ones handled) and pairwise intersection areas."""
from unittest import mock

import numpy as np
import pytest
import shapely
import torch

from mmpse_ext.evaluation.functional import (batch_intersection_areas, build_geometries,
                                             flat_polygon_points)


def _geoms(*polygons, **kwargs):
    return build_geometries([flat_polygon_points(p, 'test') for p in polygons], **kwargs)


def _rect(x0, y0, x1, y1):
    """Clockwise in image coordinates (y down), as ICDAR quads are written."""
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def test_flat_points_accepts_lists_arrays_and_tensors():
    expected = np.array([[0, 0], [2, 0], [2, 1]], dtype=np.float64)
    for value in ([0, 0, 2, 0, 2, 1], np.array([0, 0, 2, 0, 2, 1], np.float32),
                  torch.tensor([0., 0., 2., 0., 2., 1.])):
        np.testing.assert_array_equal(flat_polygon_points(value, 'x'), expected)


@pytest.mark.parametrize('bad', [[0, 0, 1], np.zeros((4, 2))])
def test_flat_points_rejects_odd_or_nested_input_naming_the_polygon(bad):
    with pytest.raises(ValueError, match=r'img_7\.jpg polygons\[3\].*even'):
        flat_polygon_points(bad, 'img_7.jpg polygons[3]')


def test_valid_polygons_keep_their_area_and_bounds():
    geoms = _geoms(_rect(0, 0, 2, 1), [0, 0, 1, 0, 1, 1], _rect(0, 0, 1, 1) + [0, 0])
    np.testing.assert_allclose(geoms.areas, [2.0, 0.5, 1.0])  # triangle closed automatically
    np.testing.assert_allclose(geoms.bounds[0], [0, 0, 2, 1])
    assert not geoms.degenerate.any() and not geoms.repaired.any()


@pytest.mark.parametrize('polygon', [
    [0, 0, 1, 1],  # two points
    [],  # no point
    [0, 0, 1, 1, 2, 2, 3, 3],  # collinear: zero area
    [0, 0, 1, 0, 1, float('nan'), 0, 1],  # non-finite
    [0, 0, 5, 0, 5, 0, 0, 0],  # a segment drawn back and forth
])
def test_degenerate_polygons_become_empty_with_zero_area(polygon):
    geoms = _geoms(polygon, _rect(0, 0, 1, 1))
    assert geoms.degenerate.tolist() == [True, False]
    assert geoms.repaired.tolist() == [False, False]
    assert geoms.areas[0] == 0.0 and shapely.is_empty(geoms.geometries[0])
    assert np.isnan(geoms.bounds[0]).all()


def test_bowtie_is_repaired_keeping_both_lobes():
    # A(0,0) B(3,3) C(3,0) D(0,1): AB and CD cross at (0.75, 0.75). Lobes: triangle A-X-D of
    # area 1 * 0.75 / 2 = 0.375 and X-B-C of area 3 * 2.25 / 2 = 3.375. The shoelace sum (what
    # Polygon3's area() reports) would be |3.375 - 0.375| = 3.0.
    geoms = _geoms([0, 0, 3, 3, 3, 0, 0, 1])
    assert geoms.repaired.tolist() == [True]
    assert not geoms.degenerate.any()
    assert geoms.areas[0] == pytest.approx(3.75)


def test_round_coords_rounds_to_nearest_integer():
    geoms = _geoms(_rect(0.4, 0.4, 1.6, 2.5), round_coords=True)
    # rint: 0.4 -> 0, 1.6 -> 2, 2.5 -> 2 (half to even)
    np.testing.assert_allclose(geoms.bounds[0], [0, 0, 2, 2])
    assert geoms.areas[0] == 4.0


def test_empty_input():
    geoms = build_geometries([])
    assert geoms.areas.shape == (0, ) and geoms.bounds.shape == (0, 4)


def test_intersection_areas_by_hand_per_image():
    image0_gt = _geoms(_rect(0, 0, 10, 10), _rect(20, 0, 30, 10))
    image0_det = _geoms(_rect(5, 0, 15, 10), _rect(10, 0, 20, 10), [25, 0, 30, 5, 25, 10])
    image1_gt = _geoms(_rect(0, 0, 4, 4))
    image1_det = _geoms()
    image2_gt = _geoms()
    image2_det = _geoms(_rect(0, 0, 4, 4))
    areas = batch_intersection_areas([image0_gt, image1_gt, image2_gt],
                                     [image0_det, image1_det, image2_det])
    # det 1 only touches both ground truths along an edge; the triangle det 2 (area 25) lies
    # inside gt 1.
    np.testing.assert_allclose(areas[0], [[50, 0, 0], [0, 0, 25]])
    assert areas[1].shape == (1, 0) and areas[2].shape == (0, 1)


def test_intersection_areas_skip_degenerate_polygons():
    areas = batch_intersection_areas([_geoms(_rect(0, 0, 4, 4), [0, 0, 4, 4])],
                                     [_geoms(_rect(0, 0, 4, 4), [1, 1, 3, 3, 2, 2])])
    np.testing.assert_allclose(areas[0], [[16, 0], [0, 0]])


def test_intersection_areas_match_brute_force_on_random_quads():
    rng = np.random.default_rng(0)

    def random_quads(n):
        centres = rng.uniform(0, 100, (n, 1, 2))
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * rng.uniform(3, 15, (n, 1, 2))
        return [q.reshape(-1) for q in centres + corners + rng.normal(0, 2, (n, 4, 2))]

    gts = [random_quads(int(rng.integers(0, 12))) for _ in range(20)]
    dets = [random_quads(int(rng.integers(0, 12))) for _ in range(20)]
    areas = batch_intersection_areas([_geoms(*g) for g in gts], [_geoms(*d) for d in dets])
    nonzero = 0
    for gt, det, area in zip(gts, dets, areas):
        gt_shapes = [shapely.make_valid(shapely.Polygon(p.reshape(-1, 2))) for p in gt]
        det_shapes = [shapely.make_valid(shapely.Polygon(p.reshape(-1, 2))) for p in det]
        expected = np.array([[g.intersection(d).area for d in det_shapes] for g in gt_shapes])
        np.testing.assert_allclose(area, expected.reshape(len(gt), len(det)), atol=1e-9)
        nonzero += int((expected > 0).sum())
    assert nonzero > 20  # the data do exercise overlapping pairs


def test_only_pairs_with_overlapping_boxes_are_intersected():
    gt = _geoms(_rect(0, 0, 10, 10), _rect(100, 0, 110, 10), _rect(200, 0, 210, 10))
    det = _geoms(_rect(1, 0, 11, 10), _rect(101, 0, 111, 10), _rect(10, 0, 20, 10))
    with mock.patch('shapely.intersection', wraps=shapely.intersection) as intersection:
        areas = batch_intersection_areas([gt, gt], [det, det])
    # one call for both images, 2 candidate pairs each (det 2 only touches gt 0)
    assert intersection.call_count == 1
    assert len(intersection.call_args.args[0]) == 4
    np.testing.assert_allclose(areas[1], [[90, 0, 0], [0, 90, 0], [0, 0, 0]])


def test_mismatched_image_counts_are_rejected():
    with pytest.raises(ValueError, match='2 images.*1'):
        batch_intersection_areas([_geoms(), _geoms()], [_geoms()])
