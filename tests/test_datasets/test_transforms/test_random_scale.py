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
    assert 0.5 - 0.01 <= sx <= 3.0 + 0.01 and abs(sx - w / 320) < 1e-9 and abs(sy - h / 200) < 1e-9
    assert results['img_shape'] == (h, w)
    geo.assert_polygons_follow_pixels(results)


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
