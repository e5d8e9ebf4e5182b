"""References for the Total-Text DetEval tests: the official script's computation, and submissions.

* :func:`official_deteval` follows, step by step, what the DetEval script that published PSENet
  Total-Text numbers come from (whai362/PSENet ``eval/tt/Deteval.py``) does with ground truths
  and one submission file per image: read ``y0,x0,y1,x1,...`` integer lines, build Polygon3
  polygons, drop detections more than half inside a ``#`` region, drop the ``#`` ground truths,
  fill the sigma / tau tables, run the one-to-one, one-to-many and many-to-one loops with their
  flags, pool the credits. Written plainly from the rules, as loops over Python lists, sharing
  nothing with the package. The geometry is pluggable (``icdar2015_official_reference``'s
  :class:`Polygon3Geometry`, the official library, or its exact rational
  :class:`ExactGeometry`).

* :func:`curved_band` draws a curved word polygon (a band along a circular arc), and
  :func:`make_curved_submission` builds Total-Text-like images of such words with detections
  that are jittered, split into pieces, merged over neighbouring words, too loose, partial,
  duplicated, inside ``#`` regions, and false positives. :func:`make_grid_submission` does the
  same with boxes on a 10 px grid (coverage ratios exactly at the thresholds),
  :func:`make_contour_submission` with pixel contours (PSENet's ``poly`` output).
"""
import numpy as np
import shapely

TR, TP, FSC_K, K = 0.7, 0.6, 0.8, 2
DONT_CARE_SHARE = 0.5


def _ratio(numerator, denominator, what):
    if denominator == 0:
        raise ZeroDivisionError(f'the official script divides by a zero {what} area here')
    return numerator / denominator


def official_deteval(images, geometry):
    """The official DetEval computation.

    Args:
        images (list[tuple]): per image ``(gt_rows, det_lines)``: ground truths as
            ``(xs, ys, transcription)`` (``'#'`` = don't care) and the submission's lines
            ``'y0,x0,y1,x1,...'`` (integers, y first as the script reads them).
        geometry: ``Polygon3Geometry`` or ``ExactGeometry`` (``polygon(flat xy)``, ``area``,
            ``intersection``).

    Returns:
        dict: ``precision``, ``recall``, ``hmean``, the pooled ``recall_credit``,
        ``precision_credit``, ``num_gt``, ``num_det`` and how many detections the ``#`` filter
        dropped (``filtered``) and matches of each kind (``one_to_one``, ``split``, ``merge``).
    """
    recall_sum = precision_sum = 0.0
    total_gt = total_det = 0
    kinds = dict(one_to_one=0, split=0, merge=0, filtered=0)
    for gt_rows, det_lines in images:
        gts = []
        for xs, ys, text in gt_rows:
            flat = [v for x, y in zip(xs, ys) for v in (int(x), int(y))]
            gts.append((geometry.polygon(flat), text == '#', len(xs)))
        dets = []
        for line in det_lines:
            values = [int(v) for v in line.split(',')]
            flat = [v for y, x in zip(values[0::2], values[1::2]) for v in (x, y)]
            dets.append(geometry.polygon(flat))
        # drop the detections more than half inside a don't-care region (one with > 1 point)
        for gt_poly, dont_care, num_points in gts:
            if not dont_care or num_points <= 1:
                continue
            kept = []
            for det in dets:
                share = _ratio(geometry.intersection(det, gt_poly), geometry.area(det), 'det')
                if share > DONT_CARE_SHARE:
                    kinds['filtered'] += 1
                else:
                    kept.append(det)
            dets = kept
        cared = [gt_poly for gt_poly, dont_care, _ in gts if not dont_care]
        sigma = [[0.0] * len(dets) for _ in cared]
        tau = [[0.0] * len(dets) for _ in cared]
        for g, gt_poly in enumerate(cared):
            for d, det in enumerate(dets):
                inter = geometry.intersection(det, gt_poly)
                sigma[g][d] = float(_ratio(inter, geometry.area(gt_poly), 'gt'))
                tau[g][d] = float(_ratio(inter, geometry.area(det), 'det'))
        num_gt, num_det = len(cared), len(dets)
        total_gt += num_gt
        total_det += num_det
        gt_flag, det_flag = [0] * num_gt, [0] * num_det
        # one-to-one: one detection covers > tr of the word and one lies > tp on it
        for g in range(num_gt):
            covering = [d for d in range(num_det) if sigma[g][d] > TR]
            lying_on = [d for d in range(num_det) if tau[g][d] > TP]
            if len(covering) == 1 and len(lying_on) == 1:
                recall_sum += 1.0
                precision_sum += 1.0
                kinds['one_to_one'] += 1
                gt_flag[g] = 1
                det_flag[covering[0]] = 1
        # one-to-many: a word split over several detections
        for g in range(num_gt):
            if gt_flag[g]:
                continue
            if sum(1 for d in range(num_det) if sigma[g][d] > 0) < K:
                continue
            pieces = [d for d in range(num_det) if tau[g][d] >= TP and det_flag[d] == 0]
            if len(pieces) == 1:
                d = pieces[0]
                if tau[g][d] >= TP and sigma[g][d] >= TR:
                    recall_sum += 1.0
                    precision_sum += 1.0
                    kinds['one_to_one'] += 1
                    gt_flag[g] = 1
                    det_flag[d] = 1
            elif sum(sigma[g][d] for d in pieces) >= TR:
                gt_flag[g] = 1
                for d in pieces:
                    det_flag[d] = 1
                recall_sum += FSC_K
                precision_sum += len(pieces) * FSC_K
                kinds['split'] += 1
        # many-to-one: several words in one detection
        for d in range(num_det):
            if det_flag[d]:
                continue
            if sum(1 for g in range(num_gt) if tau[g][d] > 0) < K:
                continue
            words = [g for g in range(num_gt) if sigma[g][d] >= TP and gt_flag[g] == 0]
            if len(words) == 1:
                g = words[0]
                if tau[g][d] >= TP and sigma[g][d] >= TR:
                    recall_sum += 1.0
                    precision_sum += 1.0
                    kinds['one_to_one'] += 1
                    gt_flag[g] = 1
                    det_flag[d] = 1
            elif sum(tau[g][d] for g in words) >= TP:
                det_flag[d] = 1
                for g in words:
                    gt_flag[g] = 1
                recall_sum += len(words) * FSC_K
                precision_sum += FSC_K
                kinds['merge'] += 1
    recall = recall_sum / total_gt if total_gt else 0.0
    precision = precision_sum / total_det if total_det else 0.0
    hmean = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return dict(
        precision=precision,
        recall=recall,
        hmean=hmean,
        recall_credit=recall_sum,
        precision_credit=precision_sum,
        num_gt=total_gt,
        num_det=total_det,
        **kinds)


def curved_band(centre,
                radius,
                start_angle,
                t0,
                t1,
                half_height,
                points_per_side,
                rng=None,
                jitter=0.0,
                bend=1):
    """A word polygon: a band of half-height ``half_height`` around a circular arc.

    The arc is ``centre + radius * (cos a, sin a)`` with ``a = start_angle + bend * t / radius``
    for arc length ``t`` in ``[t0, t1]``; one side is sampled at ``points_per_side`` points from
    ``t0`` to ``t1``, the other back, so the ring is simple when ``half_height < radius``.

    Returns:
        np.ndarray[2 * points_per_side, 2], float64.
    """
    ts = np.linspace(t0, t1, points_per_side)
    angles = start_angle + bend * ts / radius
    radial = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    outer = centre + (radius + half_height) * radial
    inner = centre + (radius - half_height) * radial
    ring = np.concatenate([outer, inner[::-1]])
    if jitter and rng is not None:
        ring = ring + rng.uniform(-jitter, jitter, ring.shape)
    return ring


def usable_ring(ring) -> bool:
    """Integer ring that is simple with a positive area (Polygon3's clipper needs simple ones)."""
    polygon = shapely.Polygon(np.rint(ring))
    return bool(polygon.is_valid and polygon.area > 0)


def _line(ring) -> str:
    """A submission line: ``y0,x0,y1,x1,...`` of the integer ring."""
    ints = np.rint(ring).astype(np.int64)
    return ','.join(f'{y},{x}' for x, y in ints)


def make_curved_submission(seed, num_images=30, size=(1000, 700)):
    """Total-Text-like ground truth and a submission with every DetEval case.

    Each image holds 1-3 curved text lines of 1-4 words (about 12 % ``#``). Per word 0-2
    detections: a jittered copy, a split into 2-3 pieces (with small or large gaps), a partial
    one, a loose (thicker) one, a duplicate; per line sometimes a detection merging 2-3
    neighbouring words; detections on ``#`` words (some half off them); false positives. Every
    polygon is simple after rounding to integers (the official Polygon3 clipper can crash on
    self-intersecting ones). Detections are shuffled: their order matters to the passes.

    Returns:
        tuple: ``(images, samples)``: the images as :func:`official_deteval` takes them, and the
        same data as metric data samples (dicts) whose predictions carry sub-pixel offsets that
        rounding to integers removes, plus scores.
    """
    rng = np.random.default_rng(seed)
    width, height = size
    images, samples = [], []
    for _ in range(num_images):
        gt_rings, texts, det_rings = [], [], []

        def add_det(make):
            for attempt in range(4):  # less jitter until the ring is simple
                ring = make(2.0 / (attempt + 1) if attempt < 3 else 0.0)
                if usable_ring(ring):
                    det_rings.append(ring)
                    return

        for _line_id in range(int(rng.integers(1, 4))):
            radius = rng.uniform(120, 1500)
            half = rng.uniform(7, 20)
            bend = rng.choice([-1, 1])
            start = rng.uniform(0, 2 * np.pi)
            # centre the arc's start on a point inside the image
            anchor = rng.uniform([80, 60], [width - 300, height - 60])
            centre = anchor - radius * np.array([np.cos(start), np.sin(start)])
            spans, t = [], 0.0
            for _ in range(int(rng.integers(1, 5))):
                length = rng.uniform(40, 150)
                spans.append((t, t + length))
                t += length + rng.uniform(12, 30)
            # merged words: one detection over 2-3 neighbouring words, which get no other
            merged = set()
            if len(spans) >= 2 and rng.uniform() < 0.35:
                first = int(rng.integers(0, len(spans) - 1))
                merged = set(range(first, min(len(spans), first + int(rng.integers(2, 4)))))
                a, b = spans[min(merged)][0], spans[max(merged)][1]
                add_det(
                    lambda j, a=a, b=b: curved_band(centre, radius, start, a - 2, b + 2,
                                                    half * rng.uniform(0.9, 1.3), 24, rng, j, bend))
            for word_id, (t0, t1) in enumerate(spans):
                ring = curved_band(
                    centre, radius, start, t0, t1, half, int(rng.integers(2, 8)), bend=bend)
                inside = (ring.min(0) >= 0).all() and (ring.max(0) <= [width, height]).all()
                if not inside or not usable_ring(ring):
                    continue
                gt_rings.append(np.rint(ring))
                dont_care = rng.uniform() < 0.12
                texts.append('#' if dont_care else f'w{len(gt_rings)}')
                if word_id in merged:
                    continue

                def band(a, b, h=half, n=None):
                    n = int(rng.integers(6, 20)) if n is None else n
                    return lambda j: curved_band(centre, radius, start, a, b, h, n, rng, j, bend)

                length = t1 - t0
                if dont_care:
                    kind = rng.choice(['on', 'half_off', 'none'])
                    if kind == 'on':
                        add_det(band(t0 + rng.uniform(-3, 3), t1 + rng.uniform(-3, 3)))
                    elif kind == 'half_off':
                        shift = length * rng.uniform(0.35, 0.65)
                        add_det(band(t0 + shift, t1 + shift))
                    continue
                for _ in range(int(rng.choice([0, 1, 1, 1, 1, 2]))):
                    kind = rng.choice(['jitter', 'split', 'partial', 'loose', 'duplicate'],
                                      p=[0.45, 0.25, 0.12, 0.12, 0.06])
                    if kind in ('jitter', 'duplicate'):
                        for _ in range(2 if kind == 'duplicate' else 1):
                            h = half * rng.uniform(0.85, 1.2)
                            add_det(band(t0 + rng.uniform(-4, 4), t1 + rng.uniform(-4, 4), h))
                    elif kind == 'split':
                        pieces = int(rng.integers(2, 4))
                        cuts = np.sort(
                            rng.uniform(t0 + 0.2 * length, t1 - 0.2 * length, pieces - 1))
                        edges = np.concatenate([[t0], cuts, [t1]])
                        gap = rng.choice([1.0, 3.0, 0.12 * length])
                        for a, b in zip(edges[:-1], edges[1:]):
                            add_det(band(a + gap / 2, b - gap / 2, half * rng.uniform(0.9, 1.1)))
                    elif kind == 'partial':
                        keep = rng.uniform(0.45, 0.9) * length
                        a = t0 + rng.uniform(0, length - keep)
                        add_det(band(a, a + keep))
                    else:  # loose: a thicker band, tau near tp
                        add_det(band(t0 - 2, t1 + 2, half * rng.uniform(1.4, 2.0)))
        for _ in range(int(rng.integers(0, 3))):  # false positives
            radius = rng.uniform(150, 1000)
            start = rng.uniform(0, 2 * np.pi)
            anchor = rng.uniform([50, 50], [width - 200, height - 50])
            centre = anchor - radius * np.array([np.cos(start), np.sin(start)])
            add_det(lambda j, c=centre, r=radius, s=start: curved_band(
                c, r, s, 0, rng.uniform(30, 150), rng.uniform(6, 18), 10, rng, j))
        order = rng.permutation(len(det_rings))
        det_rings = [det_rings[i] for i in order]
        gt_rows = [(ring[:, 0].astype(np.int64).tolist(), ring[:,
                                                               1].astype(np.int64).tolist(), text)
                   for ring, text in zip(gt_rings, texts)]
        images.append((gt_rows, [_line(ring) for ring in det_rings]))
        offsets = [rng.uniform(-0.45, 0.45, ring.shape) for ring in det_rings]
        samples.append(
            dict(
                img_path=f'img{len(images)}.jpg',
                gt_instances=dict(
                    polygons=[ring.reshape(-1).astype(np.float32) for ring in gt_rings],
                    ignored=np.array([t == '#' for t in texts], dtype=bool)),
                pred_instances=dict(
                    polygons=[(np.rint(ring) + o).reshape(-1).astype(np.float32)
                              for ring, o in zip(det_rings, offsets)],
                    scores=rng.uniform(0.2, 1.0, len(det_rings)).astype(np.float32))))
    return images, samples


def make_grid_submission(seed, num_images=40):
    """Words and detections as boxes on a 10 px grid: coverage ratios hit tr and tp exactly.

    Rows of 2-5 words (boxes 20 px high, 30-200 px wide, about 12 % ``#``); per word 0-2
    detections whose sides move by whole grid steps (and some taller or shorter), so that sigma
    and tau are often exactly 0.6, 0.7 or their sums are; per row sometimes a detection over
    2-3 words; duplicates and false positives. Boxes are exact in any geometry, so the official
    script's inclusive and strict comparisons decide, and a wrong one changes the result.

    Returns:
        tuple: ``(images, samples)`` as :func:`make_curved_submission`.
    """
    rng = np.random.default_rng(seed)
    images, samples = [], []

    def box(x0, y0, x1, y1):
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)

    for _ in range(num_images):
        gt_rings, texts, det_rings = [], [], []
        for row in range(int(rng.integers(1, 4))):
            y0, x = 40 + 60 * row, 10 * int(rng.integers(0, 5))
            words = []
            for _ in range(int(rng.integers(2, 6))):
                width = 10 * int(rng.integers(3, 21))
                words.append((x, x + width))
                x += width + 10 * int(rng.integers(1, 3))
            for x0, x1 in words:
                gt_rings.append(box(x0, y0, x1, y0 + 20))
                texts.append('#' if rng.uniform() < 0.12 else f'w{len(gt_rings)}')
                for _ in range(int(rng.choice([0, 1, 1, 2]))):
                    a = x0 + 10 * int(rng.integers(-3, 5))
                    b = x1 + 10 * int(rng.integers(-5, 4))
                    top, bottom = [(0, 20), (0, 20), (-10, 20), (0, 30), (-10, 40), (0, 10),
                                   (5, 20)][int(rng.integers(0, 7))]
                    if b > a:
                        det_rings.append(box(a, y0 + top, b, y0 + bottom))
            if len(words) >= 2 and rng.uniform() < 0.5:  # over 2-3 neighbouring words
                first = int(rng.integers(0, len(words) - 1))
                last = min(len(words), first + int(rng.integers(2, 4))) - 1
                a = words[first][0] + 10 * int(rng.integers(-2, 3))
                b = words[last][1] + 10 * int(rng.integers(-2, 3))
                det_rings.append(box(a, y0, b, y0 + 20 + 10 * int(rng.integers(0, 2))))
        for _ in range(int(rng.integers(0, 3))):  # false positives (may touch words)
            x0, y0 = 10 * rng.integers(0, 60, 2)
            det_rings.append(box(x0, y0, x0 + 10 * int(rng.integers(2, 10)), y0 + 20))
        if det_rings and rng.uniform() < 0.3:  # a duplicate
            det_rings.append(det_rings[int(rng.integers(0, len(det_rings)))].copy())
        order = rng.permutation(len(det_rings))
        det_rings = [det_rings[i] for i in order]
        gt_rows = [(ring[:, 0].astype(np.int64).tolist(), ring[:,
                                                               1].astype(np.int64).tolist(), text)
                   for ring, text in zip(gt_rings, texts)]
        images.append((gt_rows, [_line(ring) for ring in det_rings]))
        samples.append(
            dict(
                img_path=f'grid{len(images)}.jpg',
                gt_instances=dict(
                    polygons=[ring.reshape(-1).astype(np.float32) for ring in gt_rings],
                    ignored=np.array([t == '#' for t in texts], dtype=bool)),
                pred_instances=dict(
                    polygons=[
                        (ring + rng.uniform(-0.45, 0.45, ring.shape)).reshape(-1).astype(np.float32)
                        for ring in det_rings
                    ],
                    scores=rng.uniform(0.2, 1.0, len(det_rings)).astype(np.float32))))
    return images, samples


def _outer_contours(mask):
    """Outer pixel contours of the 4-connected components of a mask, as PSE outputs them."""
    import cv2
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=4)
    rings = []
    for label in range(1, count):
        found, _ = cv2.findContours((labels == label).astype(np.uint8), cv2.RETR_EXTERNAL,
                                    cv2.CHAIN_APPROX_SIMPLE)
        ring = max(found, key=len).reshape(-1, 2).astype(np.float64)
        if len(ring) >= 3 and shapely.Polygon(ring).area > 0:
            rings.append(ring)
    return rings


def make_contour_submission(seed, num_images=30, size=(480, 320)):
    """Ground truth and detections as pixel contours, the shape PSENet's ``poly`` output has.

    Words are the components of a smooth random mask (contours with hundreds of points, some
    touching themselves); the detections are the contours of the same mask moved by a few
    pixels, grown or shrunk, cut by vertical gaps (split words) and joined by bridges (merged
    words), plus blobs where there is no word.

    Returns:
        tuple: ``(images, samples)`` as :func:`make_curved_submission`.
    """
    import cv2
    rng = np.random.default_rng(seed)
    width, height = size
    images, samples = [], []
    for _ in range(num_images):
        noise = cv2.resize(rng.normal(size=(8, 12)), (width, height), interpolation=cv2.INTER_CUBIC)
        words = noise > 0.7
        gt_rings = _outer_contours(words)
        dets = np.roll(words, tuple(rng.integers(-3, 4, 2)), axis=(0, 1)).astype(np.uint8)
        kernel = np.ones((3, 3), np.uint8)
        dets = [dets, cv2.dilate(dets, kernel), cv2.erode(dets, kernel)][int(rng.integers(0, 3))]
        for x in rng.integers(0, width, int(rng.integers(0, 4))):  # cuts: split words
            dets[:, x:x + int(rng.integers(1, 5))] = 0
        for _ in range(int(rng.integers(0, 3))):  # bridges: merged words
            (x0, y0), (x1, y1) = rng.integers(0, [width, height], (2, 2))
            cv2.line(dets, (int(x0), int(y0)), (int(x1), int(y1)), 1, int(rng.integers(3, 9)))
        for _ in range(int(rng.integers(0, 3))):  # false positives
            x, y = rng.integers(0, [width - 40, height - 20])
            cv2.ellipse(dets, (int(x) + 20, int(y) + 10), (20, 8), 0, 0, 360, 1, -1)
        det_rings = _outer_contours(dets)
        order = rng.permutation(len(det_rings))
        det_rings = [det_rings[i] for i in order]
        texts = ['#' if rng.uniform() < 0.1 else 'w' for _ in gt_rings]
        gt_rows = [(ring[:, 0].astype(np.int64).tolist(), ring[:,
                                                               1].astype(np.int64).tolist(), text)
                   for ring, text in zip(gt_rings, texts)]
        images.append((gt_rows, [_line(ring) for ring in det_rings]))
        samples.append(
            dict(
                img_path=f'contour{len(images)}.jpg',
                gt_instances=dict(
                    polygons=[ring.reshape(-1).astype(np.float32) for ring in gt_rings],
                    ignored=np.array([t == '#' for t in texts], dtype=bool)),
                pred_instances=dict(
                    polygons=[ring.reshape(-1).astype(np.float32) for ring in det_rings],
                    scores=rng.uniform(0.2, 1.0, len(det_rings)).astype(np.float32))))
    return images, samples
