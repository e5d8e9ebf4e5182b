import cv2
import numpy as np
import pytest

from mmpse_ext.datasets.transforms import RandomScale

QUAD = [60, 50, 260, 70, 250, 150, 50, 130]


@pytest.mark.parametrize('seed', range(4))
def test_polygons_move_with_pixels(geo, seed):
    np.random.seed(seed)
    results = RandomScale(scale_range=(0.5, 3.0))(geo.drawn_polygon_results(200, 320, [QUAD]))
    sx, sy = results['scale_factor']
    h, w = results['img'].shape[:2]
    assert 0.5 <= sx == sy <= 3.0
    assert results['img_shape'] == (h, w)
    geo.assert_polygons_follow_pixels(results)


def test_paddles_imgaug_like_resize():
    # ppocr/data/imaug/iaa_augment.py ImgaugLikeResize: size int(h * s) x int(w * s) by
    # cv2.resize (linear), keypoints times s
    rng = np.random.default_rng(0)
    img = (rng.random((201, 333, 3)) * 255).astype(np.uint8)
    polygon = np.array(QUAD, np.float32) + 0.3
    np.random.seed(3)
    factor = np.random.uniform(0.5, 3.0)
    np.random.seed(3)
    out = RandomScale(scale_range=(0.5, 3.0))(dict(img=img.copy(), gt_polygons=[polygon]))
    expected = cv2.resize(
        img, (int(333 * factor), int(201 * factor)), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(out['img'], expected)
    np.testing.assert_allclose(
        out['gt_polygons'][0], polygon.astype(np.float64) * factor, rtol=1e-6)
    assert out['scale_factor'] == (factor, factor)


def test_samples_cover_the_range():
    np.random.seed(0)
    transform = RandomScale(scale_range=(0.5, 3.0))
    factors = [transform._sample_scale() for _ in range(400)]
    assert min(factors) >= 0.5 and max(factors) <= 3.0
    assert min(factors) < 0.6 and max(factors) > 2.9  # uniform over the whole range


@pytest.mark.parametrize('bad', [(0.0, 1.0), (2.0, 1.0), (-1.0, 2.0)])
def test_rejects_bad_range(bad):
    with pytest.raises(ValueError, match='scale_range'):
        RandomScale(scale_range=bad)
