"""How two detectors' polygons agree, for the precision tests: a greedy one-to-one matching by
IoU computed with shapely (independent of our evaluation code)."""
from typing import List, Sequence

import numpy as np


def matched_ious(reference: Sequence[np.ndarray],
                 other: Sequence[np.ndarray],
                 min_iou: float = 0.5) -> List[float]:
    """IoUs of the pairs of a greedy one-to-one matching (highest IoU first, IoU > min_iou)."""
    from shapely.geometry import Polygon
    ref = [Polygon(p).buffer(0) for p in reference]
    oth = [Polygon(p).buffer(0) for p in other]
    pairs = sorted(((a.intersection(b).area / max(a.union(b).area, 1e-9), i, j)
                    for i, a in enumerate(ref) for j, b in enumerate(oth)),
                   reverse=True)
    used_i, used_j, ious = set(), set(), []
    for iou, i, j in pairs:
        if iou > min_iou and i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            ious.append(iou)
    return ious
