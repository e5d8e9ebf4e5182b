"""References for the ICDAR2015 metric tests: the official script's computation, and submissions.

* :func:`official_scores` re-implements, line by line, what the official Challenge 4 task 4.1
  script does with a ground-truth and a submission file set: parse ``x1,y1,...,x4,y4[,text]``
  lines of integers (rejecting counter-clockwise quads, as its validator does), build one polygon
  per line, mark ``###`` ground truths and the detections inside them don't-care, match greedily
  by IoU, pool the counts. The geometry is pluggable:

  - :class:`Polygon3Geometry`: the library the official script uses (``pip install Polygon3``;
    LGPL with a non-commercial GPC core, so tests only, never imported by the package);
  - :class:`ExactGeometry`: exact rational arithmetic, independent of both Polygon3 and GEOS:
    area = |shoelace sum|, intersection = the area where both rings have odd crossing parity,
    integrated over vertical slabs (no edge crosses another inside a slab, so each slab is a
    stack of trapezoids).

* :func:`make_submission` builds ground truth and submissions the way the ICDAR2015 protocol
  defines them (integer clockwise quads, ``###`` regions), with detections jittered by up to
  10 px, duplicated and made self-intersecting, as the metric must handle.
"""
import re
from fractions import Fraction
from itertools import combinations

import numpy as np

IOU_CONSTRAINT = 0.5
AREA_PRECISION_CONSTRAINT = 0.5
_INT = r'\s*(-?[0-9]+)\s*'
_QUAD_LINE = re.compile(r'^' + ','.join([_INT] * 8) + r'(?:,(.*))?$')


def quad_is_clockwise(points) -> bool:
    """The official validator's check (image axes, y down): sum (x2 - x1) * (y2 + y1) <= 0."""
    xs, ys = points[0::2], points[1::2]
    return sum((xs[(i + 1) % 4] - xs[i]) * (ys[(i + 1) % 4] + ys[i]) for i in range(4)) <= 0


def parse_lines(content: str, with_transcription: bool):
    """``[(points (8 ints), transcription)]`` of one file; raises on lines the validator rejects."""
    parsed = []
    for line in content.replace('\r', '').split('\n'):
        if not line:
            continue
        match = _QUAD_LINE.match(line)
        if match is None or (match.group(9) is not None) != with_transcription:
            raise ValueError(f'line not in the official format: {line!r}')
        points = [int(v) for v in match.group(*range(1, 9))]
        if not quad_is_clockwise(points):
            raise ValueError(f'points not clockwise: {line!r}')
        parsed.append((points, match.group(9) or ''))
    return parsed


class Polygon3Geometry:
    """The official script's geometry: Polygon3 polygons of the integer corners."""

    @staticmethod
    def polygon(points):
        import Polygon
        return Polygon.Polygon([(points[i], points[i + 1]) for i in range(0, len(points), 2)])

    @staticmethod
    def area(polygon) -> float:
        return polygon.area()

    @staticmethod
    def intersection(a, b) -> float:
        overlap = a & b
        return 0.0 if len(overlap) == 0 else overlap.area()


def _slab_crossing_x(e, f):
    """x of the point where segments e and f meet, or None (parallel or apart)."""
    (x1, y1), (x2, y2) = e
    (x3, y3), (x4, y4) = f
    det = (x2 - x1) * (y4 - y3) - (y2 - y1) * (x4 - x3)
    if det == 0:
        return None
    t = ((x3 - x1) * (y4 - y3) - (y3 - y1) * (x4 - x3)) / det
    u = ((x3 - x1) * (y2 - y1) - (y3 - y1) * (x2 - x1)) / det
    return x1 + t * (x2 - x1) if 0 <= t <= 1 and 0 <= u <= 1 else None


def even_odd_overlap_area(*rings) -> Fraction:
    """Exact area of the points inside every ring by the even-odd rule.

    Args:
        *rings: vertex lists ``[(x, y), ...]`` of numbers (exact as Fractions).

    Returns:
        Fraction.
    """
    edges = []
    for k, ring in enumerate(rings):
        ring = [(Fraction(x), Fraction(y)) for x, y in ring]
        edges += [(k, (ring[i], ring[(i + 1) % len(ring)])) for i in range(len(ring))
                  if ring[i][0] != ring[(i + 1) % len(ring)][0]]  # vertical edges bound no slab
    xs = {p[0] for _, edge in edges for p in edge}
    for (_, e), (_, f) in combinations(edges, 2):
        x = _slab_crossing_x(e, f)
        if x is not None:
            xs.add(x)
    xs = sorted(xs)
    area = Fraction(0)
    for left, right in zip(xs, xs[1:]):
        middle = (left + right) / 2
        heights = sorted((ya + (yb - ya) * (middle - xa) / (xb - xa), k)
                         for k, ((xa, ya), (xb, yb)) in edges
                         if min(xa, xb) <= left and max(xa, xb) >= right)
        inside = [False] * len(rings)
        for (low, k), (high, _) in zip(heights, heights[1:]):
            inside[k] = not inside[k]
            if all(inside):
                area += (right - left) * (high - low)  # trapezoid: width x height at the middle
    return area


class ExactGeometry:
    """Polygon3's rules in exact rational arithmetic (no Polygon3, no GEOS)."""

    @staticmethod
    def polygon(points):
        values = [Fraction(float(v)) for v in points]  # exact for float32/float64 input
        ring = list(zip(values[0::2], values[1::2]))
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        return ring, (min(xs), min(ys), max(xs), max(ys))

    @staticmethod
    def area(polygon) -> Fraction:
        ring = polygon[0]
        doubled = sum(ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1]
                      for i in range(len(ring)))
        return abs(doubled) / 2

    @staticmethod
    def intersection(a, b) -> Fraction:
        (ring_a, box_a), (ring_b, box_b) = a[:2], b[:2]
        if not (box_a[0] < box_b[2] and box_b[0] < box_a[2] and box_a[1] < box_b[3]
                and box_b[1] < box_a[3]):
            return Fraction(0)  # each even-odd region lies inside its ring's bounding box
        return even_odd_overlap_area(ring_a, ring_b)


def official_counts(images, geometry):
    """The official script's evaluation loops on parsed polygons.

    Args:
        images (list[tuple]): per image ``(gt_points, gt_dont_care, det_points)``: flat vertex
            lists of the ground truths, their ``###`` flags, flat vertex lists of the detections
            in submission order.
        geometry: :class:`Polygon3Geometry` or :class:`ExactGeometry`.

    Returns:
        dict: ``precision``, ``recall``, ``hmean`` (floats) and the pooled counts ``matched``,
        ``num_gt``, ``num_det``.
    """
    matched_sum = care_gt_sum = care_det_sum = 0
    for gt_points, gt_flags, det_points in images:
        gt_polys = [geometry.polygon(p) for p in gt_points]
        gt_dont_care = [g for g, flag in enumerate(gt_flags) if flag]
        det_polys, det_dont_care = [], []
        for points in det_points:
            det = geometry.polygon(points)
            det_polys.append(det)
            for g in gt_dont_care:
                det_area = geometry.area(det)
                share = 0 if det_area == 0 else geometry.intersection(gt_polys[g], det) / det_area
                if share > AREA_PRECISION_CONSTRAINT:
                    det_dont_care.append(len(det_polys) - 1)
                    break
        gt_used, det_used = [False] * len(gt_polys), [False] * len(det_polys)
        for g, gt in enumerate(gt_polys):
            for d, det in enumerate(det_polys):
                if gt_used[g] or det_used[d] or g in gt_dont_care or d in det_dont_care:
                    continue
                inter = geometry.intersection(det, gt)
                union = geometry.area(det) + geometry.area(gt) - inter
                iou = 0 if union == 0 else inter / union  # the script catches the 0 division
                if iou > IOU_CONSTRAINT:
                    gt_used[g] = det_used[d] = True
                    matched_sum += 1
        care_gt_sum += len(gt_polys) - len(gt_dont_care)
        care_det_sum += len(det_polys) - len(det_dont_care)
    recall = 0.0 if care_gt_sum == 0 else matched_sum / care_gt_sum
    precision = 0.0 if care_det_sum == 0 else matched_sum / care_det_sum
    hmean = 0.0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)
    return dict(
        precision=float(precision),
        recall=float(recall),
        hmean=float(hmean),
        matched=matched_sum,
        num_gt=care_gt_sum,
        num_det=care_det_sum)


def official_scores(gt_files: dict, det_files: dict, geometry) -> dict:
    """The official script's method result for files ``{sample_id: content}``.

    Args:
        gt_files (dict[str, str]): ``x1,...,y4,transcription`` lines per sample.
        det_files (dict[str, str]): ``x1,...,y4`` lines per sample (a sample may be missing).
        geometry: :class:`Polygon3Geometry` or :class:`ExactGeometry`.

    Returns:
        dict: as :func:`official_counts`.
    """
    images = []
    for sample_id, gt_content in gt_files.items():
        gts = parse_lines(gt_content, with_transcription=True)
        dets = parse_lines(det_files.get(sample_id, ''), with_transcription=False)
        images.append(([p for p, _ in gts], [t == '###' for _, t in gts], [p for p, _ in dets]))
    return official_counts(images, geometry)


def _clockwise(quad: np.ndarray) -> np.ndarray:
    """The quad, reversed if the validator would reject it (as tools/infer.py writes them)."""
    return quad if quad_is_clockwise(quad.reshape(-1).tolist()) else quad[::-1].copy()


def _line(quad: np.ndarray, text=None) -> str:
    values = ','.join(str(int(v)) for v in quad.reshape(-1))
    return values if text is None else f'{values},{text}'


def make_submission(seed: int, num_images: int = 40, size=(1280, 720)):
    """Ground truth and a submission built as the ICDAR2015 protocol lays them out.

    Words are rotated integer quads (10 % ``###``). Per word 0-3 detections: a copy with every
    corner moved by up to 10 px; a duplicate of the previous detection (exactly, or moved again);
    a self-intersecting one (two corners swapped: a bow-tie). Plus detections inside ``###``
    regions and false positives. Every quad passes the official clockwise check (reversed if
    needed, which does not change the polygon).

    Returns:
        tuple: ``(gt_files, det_files, samples)``: the files as :func:`official_scores` takes
        them, and the same data as metric data samples (dicts) whose predictions carry
        sub-pixel offsets that rounding to integers removes, plus scores.
    """
    rng = np.random.default_rng(seed)
    width, height = size
    gt_files, det_files, samples = {}, {}, []
    for image_id in range(1, num_images + 1):
        gts, texts, dets = [], [], []
        for _ in range(int(rng.integers(0, 12))):
            w, h = rng.uniform(15, 200), rng.uniform(8, 45)
            angle = rng.uniform(-0.6, 0.6)
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2 @ rot.T
            quad = _clockwise(np.rint(corners + rng.uniform([60, 60], [width - 60, height - 60])))
            gts.append(quad.astype(np.int64))
            dont_care = rng.uniform() < 0.1
            texts.append('###' if dont_care else f'word{len(gts)}')
            previous = None
            for _ in range(int(rng.choice([0, 1, 1, 2, 3]))):
                kind = rng.choice(['jitter', 'duplicate', 'bowtie'], p=[0.6, 0.25, 0.15])
                if kind == 'duplicate' and previous is not None:
                    moved = previous + rng.integers(-3, 4, (4, 2))
                    det = previous if rng.uniform() < 0.5 else moved
                else:
                    det = quad + rng.integers(-10, 11, (4, 2))
                    if kind == 'bowtie':
                        det = det[[0, 2, 1, 3]] if rng.uniform() < 0.5 else det[[1, 0, 2, 3]]
                previous = _clockwise(det)
                dets.append(previous)
        for _ in range(int(rng.integers(0, 3))):  # false positives
            x, y = rng.integers([0, 0], [width - 100, height - 40])
            w, h = rng.integers(10, 100), rng.integers(5, 40)
            dets.append(np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]))
        order = rng.permutation(len(dets))  # detection order matters to greedy matching
        dets = [dets[i] for i in order]
        sample_id = str(image_id)
        gt_files[sample_id] = '\r\n'.join(_line(q, t) for q, t in zip(gts, texts))
        det_files[sample_id] = '\r\n'.join(_line(q) for q in dets)
        offsets = [rng.uniform(-0.49, 0.49, (4, 2)) for _ in dets]
        samples.append(
            dict(
                img_path=f'img_{image_id}.jpg',
                gt_instances=dict(
                    polygons=[q.reshape(-1).astype(np.float32) for q in gts],
                    ignored=np.array([t == '###' for t in texts], dtype=bool)),
                pred_instances=dict(
                    polygons=[(q + o).reshape(-1).astype(np.float32)
                              for q, o in zip(dets, offsets)],
                    scores=rng.uniform(0.2, 1.0, len(dets)).astype(np.float32))))
    return gt_files, det_files, samples
