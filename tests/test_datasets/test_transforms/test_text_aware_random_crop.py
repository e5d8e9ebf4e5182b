import cv2
import numpy as np
import pytest

from mmpse_ext.datasets.transforms import PSETargets, TextAwareRandomCrop

#: Targets whose text map is exactly the drawn words (whole polygons, sub-pixel, ### not drawn),
#: so image pixels and maps can be compared after a crop.
DRAWN_WORDS = dict(full_text_map=True, rasterization='subpixel', draw_ignored=False)


def _with_targets(geo, h, w, polygons, ignored=None, **options):
    options = options or DRAWN_WORDS
    return PSETargets(**options)(geo.drawn_polygon_results(h, w, polygons, ignored))


@pytest.mark.parametrize('seed', range(5))
def test_image_maps_and_polygons_stay_aligned(geo, seed):
    np.random.seed(seed)
    polygons = [[30, 40, 150, 50, 145, 90, 25, 80], [200, 150, 330, 140, 335, 190, 205, 200]]
    out = TextAwareRandomCrop(
        crop_size=(160, 120), text_crop_prob=0.5)(
            _with_targets(geo, 240, 360, polygons))
    assert out['img'].shape[:2] == (120, 160) and out['img_shape'] == (120, 160)
    assert out['gt_kernels'].shape == (7, 120, 160) and out['gt_train_mask'].shape == (120, 160)
    assert out['gt_kernels'].flags.c_contiguous
    # the drawn pixels, the text map and the re-rasterised polygons agree after the crop
    white = out['img'][..., 0] > 127
    np.testing.assert_array_equal(white, out['gt_kernels'][0].astype(bool))
    if white.sum() > 200:  # (cv2 rasterises a sloped edge slightly differently once shifted)
        geo.assert_polygons_follow_pixels(out)
    if not out['gt_polygons']:
        assert not white.any()


def test_text_crop_always_hits_text_and_uniform_crop_sometimes_misses(geo):
    word = [[400, 300, 440, 300, 440, 316, 400, 316]]  # small word in a big image
    hits = {}
    for prob in (1.0, 0.0):
        np.random.seed(0)
        crop = TextAwareRandomCrop(crop_size=100, text_crop_prob=prob, crop_range='overlap')
        hits[prob] = [
            crop(_with_targets(geo, 480, 640, word))['gt_kernels'][0].any() for _ in range(40)
        ]
    assert all(hits[1.0])
    assert not all(hits[0.0])


def test_dropped_instances_are_removed_from_every_key(geo):
    np.random.seed(0)
    results = _with_targets(
        geo,
        200,
        400, [[10, 10, 60, 10, 60, 30, 10, 30], [300, 150, 380, 150, 380, 180, 300, 180]],
        ignored=[False, True])
    results['gt_texts'] = ['left', 'right']
    crop = TextAwareRandomCrop(crop_size=(100, 100), text_crop_prob=1.0, crop_range='overlap')
    out = crop(results)
    # only the non-ignored word is in the text map, so the crop lands on it
    assert out['gt_texts'] == ['left'] and out['gt_ignored'].tolist() == [False]
    assert len(out['gt_polygons']) == 1 and out['gt_bboxes'].shape == (1, 4)


def test_image_smaller_than_crop_keeps_that_axis_whole(geo):
    out = TextAwareRandomCrop(crop_size=(640, 100))(
        _with_targets(geo, 300, 200, [[20, 20, 180, 20, 180, 60, 20, 60]]))
    assert out['img'].shape[:2] == (100, 200)


@pytest.mark.parametrize('kwargs',
                         [dict(crop_size=0),
                          dict(crop_size=(10, -1)),
                          dict(text_crop_prob=1.5)])
def test_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        TextAwareRandomCrop(**kwargs)


def test_crop_before_targets_hits_text_from_the_polygons(geo):
    word = [[400, 300, 440, 300, 440, 316, 400, 316]]
    dont_care = [[20, 20, 60, 20, 60, 36, 20, 36]]
    np.random.seed(0)
    crop = TextAwareRandomCrop(crop_size=100, text_crop_prob=1.0, crop_range='overlap')
    for _ in range(30):
        out = PSETargets(**DRAWN_WORDS)(
            crop(geo.drawn_polygon_results(480, 640, word + dont_care, ignored=[False, True])))
        assert out['gt_kernels'][0].any() and out['gt_ignored'].tolist() == [False]


@pytest.mark.parametrize('seed', range(4))
def test_crop_then_targets_equals_targets_then_crop(geo, seed):
    polygons = [[30, 40, 150, 50, 145, 90, 25, 80], [140, 100, 330, 140, 335, 190, 135, 150],
                [200, 20, 260, 20, 260, 40, 200, 40]]
    crop = TextAwareRandomCrop(crop_size=(160, 120), text_crop_prob=0.0)
    targets = PSETargets(rasterization='subpixel')  # Paddle's truncation is not shift-invariant
    np.random.seed(seed)
    reference = crop(targets(geo.drawn_polygon_results(240, 360, polygons, [0, 0, 1])))
    np.random.seed(seed)
    fast = targets(crop(geo.drawn_polygon_results(240, 360, polygons, [0, 0, 1])))
    assert fast['crop_offset'] == reference['crop_offset']
    kernel = np.ones((3, 3), np.uint8)
    for key in ('gt_kernels', 'gt_train_mask'):
        for a, b in zip(np.atleast_3d(reference[key].T).T, np.atleast_3d(fast[key].T).T):
            assert a.shape == b.shape == (120, 160)
            # identical up to OpenCV's rounding of clipped sloped edges: differences only on
            # the one-pixel boundary of the reference
            boundary = cv2.dilate(a, kernel) != cv2.erode(a, kernel)
            assert not ((a != b) & ~boundary).any()
            if a.sum() > 500:  # slivers are mostly boundary
                assert geo.iou(a > 0, b > 0) > 0.95


# (image h, w), text polygons: middle, near the top-left, near the bottom-right, one thin
# row far from the origin (Paddle's single-value range -> start 0), image narrower than the crop
PADDLE_RANGE_CASES = [
    ((300, 400), [[150, 120, 260, 120, 260, 170, 150, 170]]),
    ((300, 400), [[5, 4, 60, 4, 60, 30, 5, 30], [300, 250, 390, 250, 390, 290, 300, 290]]),
    ((260, 380), [[330, 230, 375, 230, 375, 255, 330, 255]]),
    ((300, 400), [[200, 200.2, 300, 200.2, 300, 200.9, 200, 200.9]]),
    ((300, 90), [[10, 150, 80, 150, 80, 190, 10, 190]]),
]


@pytest.mark.parametrize('case', range(len(PADDLE_RANGE_CASES)))
@pytest.mark.parametrize('end', ['low', 'high'])
def test_paddle_range_matches_random_crop_img_mask(geo, paddle_random_crop, monkeypatch, case, end):
    (h, w), polygons = PADDLE_RANGE_CASES[case]
    crop_w, crop_h = 120, 100
    # whole-polygon text map: the thin word becomes a single row
    results = PSETargets(full_text_map=True)(geo.drawn_polygon_results(h, w, polygons))
    assert results['gt_kernels'][0].any()

    # Paddle's RandomCropImgMask with its `random` pinned to the text-aware branch and to one
    # end of each randint range
    class PinnedRandom:

        @staticmethod
        def random():
            return 0.99  # > p = 3/8: text-aware

        @staticmethod
        def randint(a, b):
            return a if end == 'low' else b

    monkeypatch.setattr(paddle_random_crop, 'random', PinnedRandom)
    paddle = paddle_random_crop.RandomCropImgMask(
        size=(crop_h, crop_w), main_key='gt_text', crop_keys=['image', 'gt_text', 'mask'])
    data = paddle(
        dict(
            image=results['img'].copy(),
            gt_text=results['gt_kernels'][0].copy(),
            mask=results['gt_train_mask'].copy()))

    # ours, with numpy's draws pinned the same way (randint's high is exclusive)
    monkeypatch.setattr(np.random, 'random_sample', lambda *a: 0.0)
    monkeypatch.setattr(
        np.random, 'randint', lambda low, high=None: low if end == 'low' else high - 1)
    out = TextAwareRandomCrop(crop_size=(crop_w, crop_h))(results)
    np.testing.assert_array_equal(out['img'], data['image'])
    np.testing.assert_array_equal(out['gt_kernels'][0], data['gt_text'])
    np.testing.assert_array_equal(out['gt_train_mask'], data['mask'])


def test_overlap_range_always_shows_text_where_paddles_may_not(geo):
    # a small word: Paddle's range ends windows inside the word's extent, so many only graze it
    word = [[300, 200, 330, 200, 330, 212, 300, 212]]
    shows = {}
    for crop_range in ('paddle', 'overlap'):
        np.random.seed(0)
        crop = TextAwareRandomCrop(crop_size=100, text_crop_prob=1.0, crop_range=crop_range)
        shows[crop_range] = [
            crop(_with_targets(geo, 480, 640, word))['gt_kernels'][0].sum() for _ in range(40)
        ]
    text_pixels = _with_targets(geo, 480, 640, word)['gt_kernels'][0].sum()
    assert all(s > 0 for s in shows['overlap'])
    assert np.mean(shows['overlap']) > np.mean(shows['paddle'])
    assert sum(s == text_pixels for s in shows['paddle']) < 40
