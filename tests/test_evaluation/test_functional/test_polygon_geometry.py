"""Flat polygons → even-odd regions and areas as Polygon3 has them, and intersection areas."""
from unittest import mock

import icdar2015_official_reference as ref
import numpy as np
import pytest
import shapely
import torch

from mmpse_ext.evaluation.functional import (batch_intersection_areas, build_geometries,
                                             flat_polygon_points, shoelace_areas)


def _geoms(*polygons, **kwargs):
    return build_geometries([flat_polygon_points(p, 'test') for p in polygons], **kwargs)


def _rect(x0, y0, x1, y1):
    """Clockwise in image coordinates (y down), as ICDAR quads are written."""
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def test_flat_points_accepts_lists_arrays_and_tensors():
    expected = np.array([[0, 0], [2, 0], [2, 1]], dtype=np.float64)
    for value in ([0, 0, 2, 0, 2, 1], np.array([0, 0, 2, 0, 2, 1],
                                               np.float32), torch.tensor([0., 0., 2., 0., 2., 1.])):
        np.testing.assert_array_equal(flat_polygon_points(value, 'x'), expected)


@pytest.mark.parametrize('bad', [[0, 0, 1], np.zeros((4, 2))])
def test_flat_points_rejects_odd_or_nested_input_naming_the_polygon(bad):
    with pytest.raises(ValueError, match=r'img_7\.jpg polygons\[3\].*even'):
        flat_polygon_points(bad, 'img_7.jpg polygons[3]')


def test_valid_polygons_keep_their_area_and_bounds():
    geoms = _geoms(_rect(0, 0, 2, 1), [0, 0, 1, 0, 1, 1], _rect(0, 0, 1, 1) + [0, 0])
    np.testing.assert_allclose(geoms.areas, [2.0, 0.5, 1.0])  # triangle closed automatically
    np.testing.assert_allclose(geoms.bounds[0], [0, 0, 2, 1])
    assert not geoms.degenerate.any() and not geoms.self_intersecting.any()


@pytest.mark.parametrize(
    'polygon',
    [
        [0, 0, 1, 1],  # two points
        [],  # no point
        [0, 0, 1, 1, 2, 2, 3, 3],  # collinear: zero area
        [0, 0, 1, 0, 1, float('nan'), 0, 1],  # non-finite
        [0, 0, 5, 0, 5, 0, 0, 0],  # a segment drawn back and forth
    ])
def test_degenerate_polygons_become_empty_with_zero_area(polygon):
    geoms = _geoms(polygon, _rect(0, 0, 1, 1))
    assert geoms.degenerate.tolist() == [True, False]
    assert geoms.self_intersecting.tolist() == [False, False]
    assert geoms.areas[0] == 0.0 and shapely.is_empty(geoms.geometries[0])
    assert np.isnan(geoms.bounds[0]).all()


@pytest.mark.parametrize(
    'polygon,official_area,region_area',
    [
        # the measured Polygon3 facts (docs/evaluation.md): symmetric bow-tie area 0, region 50
        ([0, 0, 10, 10, 10, 0, 0, 10], 0.0, 50.0),
        # A(0,0) B(10,10) C(10,0) D(0,5): lobes cross at (10/3, 10/3): 25 by shoelace, 41.67 region
        ([0, 0, 10, 10, 10, 0, 0, 5], 25.0, 125 / 3),
        # A(0,0) B(3,3) C(3,0) D(0,1): lobes 0.375 and 3.375, shoelace |3.375 - 0.375| = 3
        ([0, 0, 3, 3, 3, 0, 0, 1], 3.0, 3.75),
    ])
def test_bowtie_area_is_the_shoelace_sum_and_its_region_keeps_both_lobes(
        polygon, official_area, region_area):
    official = _geoms(polygon)
    assert official.self_intersecting.tolist() == [True]
    assert not official.degenerate.any()
    assert official.areas[0] == pytest.approx(official_area, abs=1e-12)
    assert official.geometries[0].area == pytest.approx(region_area)
    repaired = _geoms(polygon, area_rule='repaired')
    assert repaired.areas[0] == pytest.approx(region_area)


def test_bowtie_overlaps_a_square_by_both_lobes():
    # Polygon3: intersection of the bow-tie (0,0),(10,10),(10,0),(0,10) with the square = 50,
    # of (0,0),(10,10),(10,0),(0,5) = 41.67.
    areas = batch_intersection_areas([_geoms(_rect(
        0, 0, 10, 10))], [_geoms([0, 0, 10, 10, 10, 0, 0, 10], [0, 0, 10, 10, 10, 0, 0, 5])])
    np.testing.assert_allclose(areas[0], [[50.0, 125 / 3]])


def test_even_odd_rule_where_a_ring_overlaps_itself():
    # A pentagram: its centre pentagon is covered twice, so it lies outside by the even-odd
    # rule (GEOS's make_valid(method='structure') would keep it). A ring around a square twice
    # covers nothing (make_valid(method='linework') merges the doubled edges and keeps it).
    star = [50, 0, 79, 90, 2, 35, 98, 35, 21, 90]
    twice = _rect(0, 0, 10, 10) * 2
    geoms = _geoms(star, twice)
    exact_star = float(ref.even_odd_overlap_area(np.reshape(star, (-1, 2)).tolist()))
    assert geoms.geometries[0].area == pytest.approx(exact_star)
    structure = shapely.make_valid(shapely.Polygon(np.reshape(star, (-1, 2))), method='structure')
    assert exact_star < structure.area - 100
    linework = shapely.make_valid(shapely.Polygon(np.reshape(twice, (-1, 2))), method='linework')
    assert linework.area == 100.0
    assert geoms.areas[1] == 200.0 and geoms.degenerate.tolist() == [False, True]


def test_shoelace_areas_by_hand():
    points = [
        np.array(p, float).reshape(-1, 2)
        for p in (_rect(0, 0, 2, 3), _rect(0, 0, 2, 3)[::-1], [0, 0, 4, 0, 0, 3], [0, 0, 1, 1], [])
    ]
    np.testing.assert_array_equal(shoelace_areas(points), [6.0, 6.0, 6.0, 0.0, 0.0])


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


def _random_polygons(rng, num, min_points=3, max_points=10):
    """Integer polygons of min_points..max_points vertices: mostly self-intersecting, some
    collinear points, repeated vertices and rings traversed twice."""
    polygons = []
    for _ in range(num):
        num_points = int(rng.integers(min_points, max_points + 1))
        points = rng.integers(0, 12, 2) + rng.integers(0, 25, (num_points, 2))
        if rng.uniform() < 0.15:
            points = np.concatenate([points, points])
        if rng.uniform() < 0.1:
            points[-1] = points[0]
        polygons.append(points.reshape(-1).astype(np.float64))
    return polygons


def test_areas_and_intersections_equal_exact_even_odd_geometry():
    rng = np.random.default_rng(0)
    polygons = _random_polygons(rng, 150, max_points=6)
    geoms = _geoms(*polygons)
    pairs = rng.integers(0, len(polygons), (150, 2))
    got = shapely.area(
        shapely.intersection(geoms.geometries[pairs[:, 0]], geoms.geometries[pairs[:, 1]]))
    exact = [
        float(
            ref.ExactGeometry.intersection(
                ref.ExactGeometry.polygon(polygons[i]), ref.ExactGeometry.polygon(polygons[j])))
        for i, j in pairs
    ]
    np.testing.assert_allclose(got, exact, rtol=1e-9, atol=1e-9)
    official = [float(ref.ExactGeometry.area(ref.ExactGeometry.polygon(p))) for p in polygons]
    np.testing.assert_allclose(geoms.areas, official, rtol=1e-12)
    assert geoms.self_intersecting.sum() > 50 and np.count_nonzero(exact) > 50


def test_areas_and_intersections_equal_polygon3_on_quads():
    """Polygon3 is the official script's geometry library (installed for the tests only).

    Quads only, as the official format has them: Polygon3's clipper crashes (segmentation
    fault) on some self-intersecting polygons of 5 or more vertices.
    """
    polygon3 = pytest.importorskip(
        'Polygon', reason="Polygon3 (the official script's geometry) is not installed")
    rng = np.random.default_rng(1)
    polygons = _random_polygons(rng, 2000, min_points=4, max_points=4)
    geoms = _geoms(*polygons)
    pairs = rng.integers(0, len(polygons), (4000, 2))
    got = shapely.area(
        shapely.intersection(geoms.geometries[pairs[:, 0]], geoms.geometries[pairs[:, 1]]))
    shapes = [polygon3.Polygon(np.reshape(p, (-1, 2)).tolist()) for p in polygons]
    expected = [ref.Polygon3Geometry.intersection(shapes[i], shapes[j]) for i, j in pairs]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(geoms.areas, [s.area() for s in shapes], rtol=1e-12)


def test_intersection_areas_match_pairwise_shapely_on_random_quads():
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
