"""PSETargets: PaddleOCR's MakePseGt pixel for pixel by default (checked against Paddle's own
file), and each named deviation doing what its name says."""
import types

import cv2
import numpy as np
import pytest
from shapely.geometry import Polygon

from mmpse_ext.datasets.transforms import PSETargets, paddle_shrink_rates, shrink_distance

PAPER = dict(
    full_text_map=True,
    ignore_if_unused_rate_fails=False,
    draw_ignored=False,
    rasterization='subpixel',
    split_pieces='all')


def _results(h, w, polygons, ignored=None):
    n = len(polygons)
    return dict(
        img=np.zeros((h, w, 3), np.uint8),
        gt_polygons=[np.asarray(p, np.float32).reshape(-1) for p in polygons],
        gt_ignored=np.zeros(n, bool) if ignored is None else np.array(ignored, bool))


def _rect(x, y, w, h):
    return [x, y, x + w, y, x + w, y + h, x, y + h]


def _paddle(make_pse_gt, h, w, polygons, ignored=None):
    """Paddle's MakePseGt on the same float32 polygons (no resize: size=0); returns
    ``(gt_kernels[7] as ours, mask, ignore_tags)``."""
    polys = np.array([np.asarray(p, np.float32).reshape(-1, 2) for p in polygons], np.float32)
    tags = [False] * len(polygons) if ignored is None else [bool(t) for t in ignored]
    data = dict(image=np.zeros((h, w, 3), np.uint8), polys=polys, ignore_tags=tags)
    out = make_pse_gt(kernel_num=7, min_shrink_ratio=0.4, size=0)(data)
    maps = out['gt_kernels'].astype(np.uint8)  # 0.9 ... 0.3
    ours_layout = np.concatenate([out['gt_text'][None].astype(np.uint8), maps[:6]])
    return ours_layout, out['mask'].astype(np.uint8), np.array(out['ignore_tags'], bool)


def _assert_same_as_paddle(make_pse_gt, h, w, polygons, ignored=None):
    ours = PSETargets()(_results(h, w, polygons, ignored))
    kernels, mask, tags = _paddle(make_pse_gt, h, w, polygons, ignored)
    for channel in range(7):
        np.testing.assert_array_equal(
            ours['gt_kernels'][channel], kernels[channel], err_msg=f'channel {channel}')
    np.testing.assert_array_equal(ours['gt_train_mask'], mask)
    assert ours['gt_ignored'].tolist() == tags.tolist()
    return ours


def _small_words_scene():
    """20-px-wide words 1.2 … 6 px tall at fractional positions, normal words, a ### word, a
    rotated quad and words crossing the image border."""
    polygons, ignored = [], []
    for k, height in enumerate((1.2, 2.3, 3.1, 3.6, 4.2, 4.9, 6.0)):
        polygons.append(_rect(10.3 + 25 * k, 8.7, 20.0, height))
        ignored.append(False)
    polygons += [
        _rect(12.6, 30.2, 120.5, 24.3),
        _rect(150.1, 30.9, 60.0, 18.4),
        cv2.boxPoints(((90.4, 90.7), (110.3, 22.6), 17.3)).reshape(-1).tolist(),
        _rect(-6.5, 70.2, 40.0, 16.0),
        _rect(200.4, 100.6, 60.0, 14.2)
    ]
    ignored += [False, True, False, False, False]
    return 130, 230, polygons, ignored


def test_default_is_paddle_make_pse_gt_pixel_for_pixel(paddle_make_pse_gt):
    h, w, polygons, ignored = _small_words_scene()
    ours = _assert_same_as_paddle(paddle_make_pse_gt, h, w, polygons, ignored)
    # the scene exercises Paddle's rules: words ignored only because the unused 0.3 shrink
    # vanishes, and the ### word drawn into the maps although the mask removes it
    trained_only = PSETargets(ignore_if_unused_rate_fails=False)(_results(h, w, polygons, ignored))
    only_by_unused_rate = np.flatnonzero(ours['gt_ignored'] & ~trained_only['gt_ignored'])
    assert len(only_by_unused_rate) >= 2, ours['gt_ignored']
    dont_care = ours['gt_kernels'][:, 31:48, 151:209]
    assert dont_care[0].all() and dont_care[6].any()
    assert not ours['gt_train_mask'][31:48, 151:209].any()


@pytest.mark.parametrize('seed', range(12))
def test_random_scenes_equal_paddle(paddle_make_pse_gt, seed):
    rng = np.random.default_rng(seed)
    h, w = 96 + int(rng.integers(0, 64)), 128 + int(rng.integers(0, 64))
    polygons = []
    for _ in range(10):
        size = (rng.uniform(1, 60), rng.uniform(0.5, 20))
        centre = (rng.uniform(-10, w + 10), rng.uniform(-10, h + 10))
        polygons.append(cv2.boxPoints((centre, size, rng.uniform(-30, 30))).reshape(-1))
    _assert_same_as_paddle(paddle_make_pse_gt, h, w, polygons, rng.random(10) < 0.2)


def _dumbbell(right):
    """A 40x40 square joined by a 3-px bar to a shape on the right: a square (the shrunk pieces
    have equal vertex counts at every rate) or a pentagon (unequal: Paddle's np.array raises)."""
    left = [(0, 0), (40, 0), (40, 18.5), (60, 18.5), (60, 0)]
    if right == 'square':
        tail = [(100, 0), (100, 40), (60, 40), (60, 21.5), (40, 21.5), (40, 40), (0, 40)]
    else:
        tail = [(85, 0), (105, 20), (85, 40), (60, 40), (60, 21.5), (40, 21.5), (40, 40), (0, 40)]
    return (np.array(left + tail, np.float32) + (5.0, 5.0)).reshape(-1)


def test_split_shrink_with_equal_piece_sizes_keeps_the_first_piece(paddle_make_pse_gt):
    polygon = _dumbbell('square')
    ours = _assert_same_as_paddle(paddle_make_pse_gt, 60, 130, [polygon])
    pieces = cv2.connectedComponents(ours['gt_kernels'][1], connectivity=4)[0] - 1
    assert pieces == 1  # the 0.9 shrink split, one side kept
    both = PSETargets(split_pieces='all')(_results(60, 130, [polygon]))['gt_kernels'][1]
    assert cv2.connectedComponents(both, connectivity=4)[0] - 1 == 2


def test_split_shrink_where_paddle_crashes_keeps_the_first_piece(paddle_make_pse_gt, monkeypatch):
    polygon = _dumbbell('pentagon')
    with pytest.raises(ValueError):  # numpy >= 1.24 refuses the ragged pieces in Paddle's code
        _paddle(paddle_make_pse_gt, 60, 130, [polygon])

    # Paddle's code under numpy < 1.24 (ragged input -> object array) keeps the first piece
    def old_numpy_array(value, *args, **kwargs):
        try:
            return np.array(value, *args, **kwargs)
        except ValueError:
            return np.array(value, dtype=object)

    old_numpy = types.SimpleNamespace(
        **{k: getattr(np, k)
           for k in dir(np) if not k.startswith('__')})
    old_numpy.array = old_numpy_array
    monkeypatch.setitem(paddle_make_pse_gt.generate_kernel.__globals__, 'np', old_numpy)
    kernels, mask, tags = _paddle(paddle_make_pse_gt, 60, 130, [polygon])
    ours = PSETargets()(_results(60, 130, [polygon]))
    np.testing.assert_array_equal(ours['gt_kernels'], kernels)
    np.testing.assert_array_equal(ours['gt_train_mask'], mask)
    assert cv2.connectedComponents(ours['gt_kernels'][1], connectivity=4)[0] - 1 == 1


def _paddle_rates_and_offsets(make_pse_gt, monkeypatch, polygons, kernel_num, min_ratio):
    """Run Paddle's MakePseGt and record, in call order, the rate it passes to its
    ``generate_kernel`` and the inward offset it hands pyclipper for each polygon."""
    module_globals = make_pse_gt.generate_kernel.__globals__
    pyclipper = module_globals['pyclipper']
    offsets = []

    class RecordingOffset:

        def __init__(self):
            self._offset = pyclipper.PyclipperOffset()
            self.AddPath = self._offset.AddPath

        def Execute(self, delta):
            offsets.append(-delta)
            return self._offset.Execute(delta)

    monkeypatch.setitem(
        module_globals, 'pyclipper',
        types.SimpleNamespace(
            PyclipperOffset=RecordingOffset,
            JT_ROUND=pyclipper.JT_ROUND,
            ET_CLOSEDPOLYGON=pyclipper.ET_CLOSEDPOLYGON))
    maker = make_pse_gt(kernel_num=kernel_num, min_shrink_ratio=min_ratio, size=0)
    rates = []
    generate_kernel = maker.generate_kernel

    def recording_generate_kernel(img_size, shrink_ratio, *args, **kwargs):
        rates.append(shrink_ratio)
        return generate_kernel(img_size, shrink_ratio, *args, **kwargs)

    maker.generate_kernel = recording_generate_kernel
    polys = np.array([np.asarray(p, np.float32).reshape(-1, 2) for p in polygons])
    maker(
        dict(
            image=np.zeros((120, 200, 3), np.uint8),
            polys=polys,
            ignore_tags=[False] * len(polygons)))
    return rates, offsets


@pytest.mark.parametrize('kernel_num,min_ratio', [(7, 0.4), (3, 0.5), (6, 0.3)])
def test_rates_and_shrink_distances_are_paddles(paddle_make_pse_gt, monkeypatch, kernel_num,
                                                min_ratio):
    """Paddle's own run is the oracle: the rates it uses, bit for bit, and for every polygon
    and rate the offset it gives pyclipper equals ours from the polygon's area and perimeter."""
    polygons = [
        _rect(10.3, 8.7, 60.0, 14.2),
        cv2.boxPoints(((90.4, 60.7), (80.3, 22.6), 17.3)).reshape(-1),
        [150.2, 10.1, 190.7, 12.3, 185.9, 70.4, 158.1, 52.6]
    ]
    rates, offsets = _paddle_rates_and_offsets(paddle_make_pse_gt, monkeypatch, polygons,
                                               kernel_num, min_ratio)
    assert paddle_shrink_rates(kernel_num, min_ratio) == tuple(rates)
    shapes = [Polygon(np.asarray(p, np.float32).reshape(-1, 2)) for p in polygons]
    assert len(offsets) == kernel_num * len(polygons)
    assert offsets == [
        shrink_distance(shape.area, shape.length, rate) for rate in rates for shape in shapes
    ]


def test_channels_are_paddles_first_six_rates(paddle_make_pse_gt, monkeypatch):
    """Channel 0 (text map) and channel 1 are Paddle's first shrink, channels 2..6 the next
    five; the paper's variant has the unshrunk polygon as its text map."""
    rates, _ = _paddle_rates_and_offsets(paddle_make_pse_gt, monkeypatch, [_rect(5, 5, 40, 12)], 7,
                                         0.4)
    assert PSETargets().channel_ratios == (rates[0], *rates[:6])
    assert PSETargets(full_text_map=True).channel_ratios == (1.0, *rates[:6])


def test_shrink_distance_of_a_degenerate_polygon_is_finite():
    # Paddle's 1e-6 on the perimeter: a zero-length polygon shrinks by 0, not by nan
    assert shrink_distance(0.0, 0.0, 0.5) == 0.0
    assert shrink_distance(1200.0, 140.0, 1.0) == 0.0


def test_canvas_from_img_shape_without_an_image():
    # the loss makes targets from packed samples, which carry img_shape but no image
    h, w, polygons, ignored = _small_words_scene()
    with_img = PSETargets()(_results(h, w, polygons, ignored))
    results = _results(h, w, polygons, ignored)
    del results['img']
    results['img_shape'] = (h, w)
    without = PSETargets()(results)
    np.testing.assert_array_equal(without['gt_kernels'], with_img['gt_kernels'])
    np.testing.assert_array_equal(without['gt_train_mask'], with_img['gt_train_mask'])
    with pytest.raises(KeyError, match='img_shape'):
        PSETargets()(dict(gt_polygons=[], gt_ignored=[]))


def test_full_text_map_is_the_whole_polygon():
    polygon = _rect(20.4, 10.6, 150.2, 40.3)
    default = PSETargets()(_results(80, 200, [polygon]))['gt_kernels']
    full = PSETargets(full_text_map=True)(_results(80, 200, [polygon]))['gt_kernels']
    np.testing.assert_array_equal(full[1:], default[1:])
    expected = np.zeros((80, 200), np.uint8)
    cv2.fillPoly(expected, [np.asarray(polygon, np.float32).reshape(-1, 2).astype(np.int32)], 1)
    np.testing.assert_array_equal(full[0], expected)
    assert full[0].sum() > default[0].sum()


def test_draw_ignored_false_draws_dont_care_words_nowhere():
    text, dont_care = _rect(10, 10, 100, 30), _rect(10, 60, 100, 30)
    out = PSETargets(draw_ignored=False)(_results(100, 150, [text, dont_care], [False, True]))
    assert not out['gt_kernels'][:, 60:91, 10:111].any()
    assert not out['gt_train_mask'][60:90, 10:110].any()
    assert out['gt_kernels'][0, 15:35, 15:105].all()


@pytest.mark.parametrize('k', range(7))
def test_subpixel_rectangle_kernels_shrink_by_the_formula(k):
    x, y, w, h = 30.0, 20.0, 200.0, 60.0
    kernels = PSETargets(**PAPER)(_results(120, 260, [_rect(x, y, w, h)]))['gt_kernels']
    d = shrink_distance(w * h, 2 * (w + h), PSETargets(**PAPER).channel_ratios[k])
    rows = np.flatnonzero(kernels[k].any(axis=1))
    cols = np.flatnonzero(kernels[k].any(axis=0))
    # cv2 fills spans inclusively: a [a, b] span covers about b - a + 1 pixels, centred on it
    assert abs(len(cols) - (w - 2 * d + 1)) <= 1.0 and abs(len(rows) - (h - 2 * d + 1)) <= 1.0
    assert abs((cols[0] + cols[-1] + 1) / 2 - (x + w / 2)) <= 0.5
    assert abs(cols[0] + 0.5 - (x + d)) <= 1.0 and abs(rows[0] + 0.5 - (y + d)) <= 1.0


# a rotated quad, a perspective quad and a 14-point curved word
ROTATED = cv2.boxPoints(((120, 60), (150, 36), 17)).reshape(-1).tolist()
TRAPEZOID = [20, 120, 180, 110, 185, 170, 15, 150]
_u = np.linspace(-0.6, 0.6, 7)
CURVED = np.vstack([
    np.stack([230 + 140 * np.sin(_u), 320 - 140 * np.cos(_u)], 1),
    np.stack([230 + 100 * np.sin(_u[::-1]), 320 - 100 * np.cos(_u[::-1])], 1)
]).reshape(-1).tolist()


@pytest.mark.parametrize('options', [{}, PAPER], ids=['paddle', 'paper'])
@pytest.mark.parametrize(
    'polygon', [ROTATED, TRAPEZOID, CURVED], ids=['rotated', 'trapezoid', 'curved'])
def test_kernels_nested_and_decreasing(polygon, options):
    out = PSETargets(**options)(_results(340, 400, [polygon]))
    kernels = out['gt_kernels']
    assert kernels.shape == (7, 340, 400) and kernels.dtype == np.uint8
    assert set(np.unique(kernels)) <= {0, 1}
    areas = kernels.reshape(7, -1).sum(1)
    assert all(a >= b for a, b in zip(areas, areas[1:])) and areas[1] > areas[-1], areas
    for k in range(1, 6):
        assert not np.any(kernels[k + 1] & ~kernels[k].astype(bool)), f'kernel {k + 1} leaks'
    if options:  # the paper's text map is the polygon (grown by ~half a pixel by cv2's spans)
        shape = Polygon(np.reshape(polygon, (-1, 2)))
        assert abs(areas[0] - shape.buffer(0.5, join_style=2).area) < 0.02 * areas[0]
    assert out['gt_train_mask'].all()


def test_degenerate_and_non_finite_polygons_are_ignored():
    line, nan = [10, 30, 50, 30], [10, 10, np.nan, 10, 30, 20, 10, 20]
    normal = _rect(10, 40, 120, 30)
    results = _results(80, 150, [normal])
    results['gt_polygons'] = [np.asarray(line, np.float32), np.asarray(nan, np.float32)] + \
        results['gt_polygons']
    results['gt_ignored'] = np.zeros(3, bool)
    out = PSETargets()(results)
    assert out['gt_ignored'].tolist() == [True, True, False]
    assert not out['gt_kernels'][:, :35].any()
    assert out['gt_kernels'][6, 50:60, 30:100].all()


def test_no_polygons_gives_empty_targets():
    out = PSETargets()(_results(50, 60, []))
    assert out['gt_kernels'].shape == (7, 50, 60) and not out['gt_kernels'].any()
    assert out['gt_train_mask'].all()


@pytest.mark.parametrize('kwargs', [
    dict(kernel_num=1),
    dict(min_shrink_ratio=1.0),
    dict(rasterization='round'),
    dict(split_pieces='largest')
])
def test_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        PSETargets(**kwargs)
