"""Keep a subset of the ground-truth instances, consistently across every ``gt_*`` key."""
import numpy as np

#: Per-instance keys written by mmocr's ``LoadOCRAnnotations``.
INSTANCE_KEYS = ('gt_polygons', 'gt_bboxes', 'gt_bboxes_labels', 'gt_ignored', 'gt_texts')


def keep_instances(results: dict, keep: np.ndarray) -> None:
    """Drop the instances where ``keep`` is False from every per-instance key present.

    Args:
        results (dict): Transform results.
        keep (ndarray[N], bool): One flag per instance.
    """
    keep = np.asarray(keep, dtype=bool)
    if keep.all():
        return
    for key in INSTANCE_KEYS:
        if key not in results:
            continue
        value = results[key]
        if isinstance(value, np.ndarray):
            results[key] = value[keep]
        else:
            results[key] = [v for v, k in zip(value, keep) if k]


def polygons_to_bboxes(polygons) -> np.ndarray:
    """Axis-aligned boxes of polygons.

    Args:
        polygons (list[ndarray]): Each ``[x1, y1, x2, y2, ...]``, float.

    Returns:
        ndarray[N, 4], float32: ``x_min, y_min, x_max, y_max``.
    """
    boxes = np.zeros((len(polygons), 4), dtype=np.float32)
    for i, polygon in enumerate(polygons):
        points = np.asarray(polygon, dtype=np.float32).reshape(-1, 2)
        boxes[i, :2] = points.min(axis=0)
        boxes[i, 2:] = points.max(axis=0)
    return boxes
