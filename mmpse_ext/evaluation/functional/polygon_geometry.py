"""Flat polygon arrays → regions, areas and pairwise intersection areas, as the ICDAR script.

The official ICDAR2015 script measures polygons with the Polygon3 library (see
``docs/evaluation.md``). Its two operations, reproduced here for any vertex list:

* **region** (what intersections are taken of): the *even-odd* region of the vertex ring, i.e.
  the points a ray from them crosses the ring an odd number of times. For a simple polygon that
  is its interior; a self-intersecting "bow-tie" keeps both lobes; where a ring covers a place
  twice (a pentagram's centre) the place is outside.
* **area** (what IoU divides by): with ``area_rule='official'``, the absolute shoelace sum over
  the vertex order, as Polygon3's ``area()`` returns it. It equals the region's area for a
  simple polygon but not for a self-intersecting one: the symmetric bow-tie
  (0,0),(10,10),(10,0),(0,10) has area 0 and a region of 50 px². With
  ``area_rule='repaired'`` the area is the region's own area instead.

A polygon whose region is empty (fewer than 3 points, a non-finite coordinate, all points on a
line) is *degenerate*: it intersects nothing, so it never matches and never makes a detection
don't-care, but it still counts as a ground truth or a detection, as in the official script.

Everything is vectorised with shapely 2 (one GEOS call per batch); only self-intersecting rings
take a per-polygon path, and pairs whose bounding boxes do not overlap are never intersected.
"""
from typing import List, NamedTuple, Sequence

import numpy as np
import shapely

#: Values of ``area_rule``: ``'official'`` = |shoelace sum| (Polygon3), ``'repaired'`` = area of
#: the even-odd region.
AREA_RULES = ('official', 'repaired')


class PolygonGeometries(NamedTuple):
    """Regions and areas of many polygons, with what was unusual about them.

    Attributes:
        geometries (np.ndarray[N], object): even-odd regions as shapely geometries (Polygon,
            MultiPolygon or an empty Polygon for degenerate input).
        areas (np.ndarray[N], float64): areas under the chosen area rule.
        bounds (np.ndarray[N, 4], float64): ``x_min, y_min, x_max, y_max`` of each region; NaN
            when it is empty.
        degenerate (np.ndarray[N], bool): empty region.
        self_intersecting (np.ndarray[N], bool): a ring that is not simple (it crosses or
            touches itself) but has a non-empty region.
    """
    geometries: np.ndarray
    areas: np.ndarray
    bounds: np.ndarray
    degenerate: np.ndarray
    self_intersecting: np.ndarray


def flat_polygon_points(polygon, where: str) -> np.ndarray:
    """Return one flat polygon ``[x1, y1, x2, y2, ...]`` as a float64 array of points.

    Args:
        polygon (array-like[2 * P]): flat coordinates (list, np.ndarray or torch.Tensor).
        where (str): names the polygon in error messages (sample and index).

    Returns:
        np.ndarray[P, 2], float64.

    Raises:
        ValueError: if the coordinates are not a flat sequence of even length.
    """
    if hasattr(polygon, 'detach'):  # torch.Tensor, without importing torch here
        polygon = polygon.detach().cpu().numpy()
    points = np.asarray(polygon, dtype=np.float64)
    if points.ndim != 1 or points.size % 2 != 0:
        raise ValueError(f'{where}: a polygon must be a flat array [x1, y1, x2, y2, ...] of even '
                         f'length, got shape {points.shape}')
    return points.reshape(-1, 2)


def shoelace_areas(point_arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Absolute shoelace sum of each vertex ring (Polygon3's ``area()`` of one contour).

    Args:
        point_arrays (Sequence[np.ndarray[P_i, 2], float64]): polygon vertices; the ring closes
            from the last vertex back to the first.

    Returns:
        np.ndarray[N], float64: ``|sum_i (x_i * y_(i+1) - x_(i+1) * y_i)| / 2``; 0 for fewer
        than 3 points.
    """
    areas = np.zeros(len(point_arrays), dtype=np.float64)
    sizes = np.array([len(p) for p in point_arrays], dtype=np.int64)
    rings = np.flatnonzero(sizes >= 3)
    if rings.size == 0:
        return areas
    points = np.concatenate([point_arrays[i] for i in rings])
    starts = np.concatenate([[0], np.cumsum(sizes[rings])[:-1]])
    following = np.arange(len(points)) + 1  # index of each vertex's successor in its ring
    following[starts + sizes[rings] - 1] = starts
    cross = points[:, 0] * points[following, 1] - points[following, 0] * points[:, 1]
    areas[rings] = np.abs(np.add.reduceat(cross, starts)) / 2.0
    return areas


def even_odd_region(points: np.ndarray):
    """The even-odd region of a vertex ring that may cross or overlap itself.

    The ring's segments are split where they meet and every face they bound is kept when an
    interior point of it lies inside the ring by the crossing-parity test on the original
    segments. This is the even-odd rule exactly, also where the ring runs over itself (GEOS's
    ``make_valid`` merges doubled segments, which flips the parity there).

    Args:
        points (np.ndarray[P, 2], float64): vertices, P >= 3, all finite.

    Returns:
        shapely geometry: Polygon or MultiPolygon; empty when no face is inside.
    """
    ring = shapely.linearrings(points)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.node(ring))))
    if faces.size == 0:
        return shapely.Polygon()
    probes = shapely.get_coordinates(shapely.point_on_surface(faces))  # [F, 2]
    start, end = points, np.roll(points, -1, axis=0)
    px, py = probes[:, 0:1], probes[:, 1:2]
    spans = (start[:, 1] > py) != (end[:, 1] > py)  # [F, E]: the edge spans the probe's y
    with np.errstate(divide='ignore', invalid='ignore'):
        cross_x = start[:, 0] + (py - start[:, 1]) * (end[:, 0] - start[:, 0]) / (
            end[:, 1] - start[:, 1])
    inside = (np.count_nonzero(spans & (px < cross_x), axis=1) % 2) == 1
    if not inside.any():
        return shapely.Polygon()
    return shapely.union_all(faces[inside])


def build_geometries(point_arrays: Sequence[np.ndarray],
                     round_coords: bool = False,
                     area_rule: str = 'official') -> PolygonGeometries:
    """Build the regions and areas of many polygons at once.

    Args:
        point_arrays (Sequence[np.ndarray[P_i, 2], float64]): polygon vertices (from
            :func:`flat_polygon_points`); a closing vertex equal to the first is allowed.
        round_coords (bool): round coordinates to the nearest integer (``np.rint``) first, as
            ``tools/infer.py`` writes an ICDAR submission file (the format holds integers).
        area_rule (str): ``'official'`` (|shoelace sum|) or ``'repaired'`` (area of the region);
            see the module docstring.

    Returns:
        PolygonGeometries: see its attributes; N = ``len(point_arrays)``.
    """
    if area_rule not in AREA_RULES:
        raise ValueError(f'area_rule must be one of {AREA_RULES}, got {area_rule!r}')
    num = len(point_arrays)
    sizes = np.array([len(p) for p in point_arrays], dtype=np.int64)
    coords = np.concatenate(point_arrays) if sizes.sum() else np.zeros((0, 2))
    if round_coords:
        coords = np.rint(coords)
    starts = np.cumsum(sizes) - sizes
    ring_of_point = np.repeat(np.arange(num), sizes)
    has_non_finite = np.bincount(ring_of_point[~np.isfinite(coords).all(axis=1)], minlength=num)
    usable = (sizes >= 3) & (has_non_finite == 0)
    geometries = np.full(num, shapely.Polygon(), dtype=object)
    if usable.any():
        kept = usable[ring_of_point]
        compact_ids = (np.cumsum(usable) - 1)[ring_of_point[kept]]
        geometries[usable] = shapely.polygons(
            shapely.linearrings(coords[kept], indices=compact_ids))
    not_simple = usable & ~shapely.is_valid(geometries)
    not_simple_ids = np.flatnonzero(not_simple)
    rings = [coords[starts[i]:starts[i] + sizes[i]] for i in not_simple_ids]
    for i, ring in zip(not_simple_ids, rings):
        geometries[i] = even_odd_region(ring)
    areas = shapely.area(geometries)
    degenerate = areas <= 0
    geometries[degenerate] = shapely.Polygon()
    areas[degenerate] = 0.0
    if area_rule == 'official' and rings:
        # a simple ring's region area is its shoelace sum; the others need the sum itself
        areas[not_simple_ids] = shoelace_areas(rings)
    return PolygonGeometries(
        geometries=geometries,
        areas=areas,
        bounds=shapely.bounds(geometries),
        degenerate=degenerate,
        self_intersecting=not_simple & ~degenerate)


def batch_intersection_areas(gts: Sequence[PolygonGeometries],
                             dets: Sequence[PolygonGeometries]) -> List[np.ndarray]:
    """Intersection areas of every ground-truth region with every detection region, per image.

    Only pairs whose bounding boxes overlap with positive area are intersected, and all of them
    (over every image) in one vectorised shapely call.

    Args:
        gts (Sequence[PolygonGeometries]): ground truths of each image (G_i polygons).
        dets (Sequence[PolygonGeometries]): detections of each image (D_i polygons).

    Returns:
        list[np.ndarray[G_i, D_i], float64]: intersection areas, 0 where the boxes are apart.
    """
    if len(gts) != len(dets):
        raise ValueError(f'got ground truths of {len(gts)} images but detections of {len(dets)}')
    outputs, gt_geoms, det_geoms, pair_ids = [], [], [], []
    for gt, det in zip(gts, dets):
        outputs.append(np.zeros((len(gt.areas), len(det.areas)), dtype=np.float64))
        gb, db = gt.bounds[:, None, :], det.bounds[None, :, :]
        # Strict inequalities: boxes that only touch have an intersection of area 0. NaN bounds
        # (empty geometries) compare False, so they never become candidates.
        overlap = ((gb[..., 0] < db[..., 2]) & (db[..., 0] < gb[..., 2]) & (gb[..., 1] < db[..., 3])
                   & (db[..., 1] < gb[..., 3]))
        gt_ids, det_ids = np.nonzero(overlap)
        gt_geoms.append(gt.geometries[gt_ids])
        det_geoms.append(det.geometries[det_ids])
        pair_ids.append((gt_ids, det_ids))
    if not outputs:
        return outputs
    areas = shapely.area(shapely.intersection(np.concatenate(gt_geoms), np.concatenate(det_geoms)))
    start = 0
    for output, (gt_ids, det_ids) in zip(outputs, pair_ids):
        output[gt_ids, det_ids] = areas[start:start + gt_ids.size]
        start += gt_ids.size
    return outputs
