"""Flat polygon arrays → shapely geometries, and their pairwise intersection areas.

Everything here is vectorised with shapely 2 (one GEOS call per batch, not per polygon), and
pairs whose bounding boxes do not overlap are never intersected, so a dataset of a few hundred
images with ~10 instances each takes well under a second.

Invalid input is handled, never fatal:

* fewer than 3 points, a non-finite coordinate or zero area → a *degenerate* polygon: an empty
  geometry with area 0. Under the ICDAR2015 formulas it can never be matched and never makes a
  detection don't-care (its intersections are 0), exactly as the official script treats a
  zero-area polygon (``IoU = 0 / (0 + area_gt - 0)``, ``precision = 0 if area == 0``); it still
  counts as a ground truth or a detection.
* self-intersecting polygons (a "bowtie") → repaired with ``shapely.make_valid``, which keeps
  every lobe (for a bowtie: both triangles). The official script's Polygon3 clips them with GPC
  (the same region) but measures their area with the absolute shoelace sum, which is not the
  area of any region (0 for a symmetric bowtie); we use the repaired region's true area.
  mmocr uses ``buffer(0)`` instead, which can silently drop a lobe.
"""
from typing import List, NamedTuple, Sequence

import numpy as np
import shapely


class PolygonGeometries(NamedTuple):
    """Shapely geometries built from flat polygons, with what had to be fixed.

    Attributes:
        geometries (np.ndarray[N], object): shapely geometries (Polygon, MultiPolygon or an
            empty geometry for degenerate input).
        areas (np.ndarray[N], float64): area of each geometry.
        bounds (np.ndarray[N, 4], float64): ``x_min, y_min, x_max, y_max``; NaN when empty.
        degenerate (np.ndarray[N], bool): fewer than 3 points, non-finite or zero area.
        repaired (np.ndarray[N], bool): invalid (self-intersecting) but of positive area,
            repaired with ``shapely.make_valid``.
    """
    geometries: np.ndarray
    areas: np.ndarray
    bounds: np.ndarray
    degenerate: np.ndarray
    repaired: np.ndarray


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


def build_geometries(point_arrays: Sequence[np.ndarray],
                     round_coords: bool = False) -> PolygonGeometries:
    """Build shapely geometries for many polygons at once.

    Args:
        point_arrays (Sequence[np.ndarray[P_i, 2], float64]): polygon vertices (from
            :func:`flat_polygon_points`); a closing vertex equal to the first is allowed.
        round_coords (bool): round coordinates to the nearest integer (``np.rint``) first, as
            an ICDAR submission file holds integers only (the official parser rejects others).

    Returns:
        PolygonGeometries: see its attributes; N = ``len(point_arrays)``.
    """
    num = len(point_arrays)
    geometries = np.full(num, shapely.Polygon(), dtype=object)
    usable = np.array([len(p) >= 3 and np.isfinite(p).all() for p in point_arrays], dtype=bool)
    usable_ids = np.flatnonzero(usable)
    if usable_ids.size:
        coords = np.concatenate([point_arrays[i] for i in usable_ids])
        if round_coords:
            coords = np.rint(coords)
        ring_ids = np.repeat(np.arange(usable_ids.size), [len(point_arrays[i]) for i in usable_ids])
        geometries[usable_ids] = shapely.polygons(shapely.linearrings(coords, indices=ring_ids))
    invalid = ~shapely.is_valid(geometries)
    if invalid.any():
        geometries[invalid] = shapely.make_valid(geometries[invalid])
    areas = shapely.area(geometries)
    degenerate = ~usable | (areas <= 0)
    # A zero-area polygon may be repaired into lines/points; keep it an empty geometry instead so
    # that it intersects nothing.
    geometries[degenerate] = shapely.Polygon()
    areas[degenerate] = 0.0
    return PolygonGeometries(
        geometries=geometries,
        areas=areas,
        bounds=shapely.bounds(geometries),
        degenerate=degenerate,
        repaired=invalid & ~degenerate)


def batch_intersection_areas(gts: Sequence[PolygonGeometries],
                             dets: Sequence[PolygonGeometries]) -> List[np.ndarray]:
    """Intersection areas of every ground truth with every detection, image by image.

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
        overlap = ((gb[..., 0] < db[..., 2]) & (db[..., 0] < gb[..., 2]) &
                   (gb[..., 1] < db[..., 3]) & (db[..., 1] < gb[..., 3]))
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
