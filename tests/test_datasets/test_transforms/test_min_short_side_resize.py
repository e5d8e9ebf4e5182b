import numpy as np
import pytest
from mmengine.dataset import Compose

from mmpse_ext.datasets.transforms import MinShortSideResize

QUAD = [40, 30, 200, 40, 195, 110, 35, 100]


def _image(h, w):
    return dict(img=np.zeros((h, w, 3), np.uint8), img_shape=(h, w), ori_shape=(h, w))


@pytest.mark.parametrize(
    'hw, short, divisor, expected_hw',
    [
        ((720, 1280), 736, 32, (736, 1312)),  # 1280 * 736/720 = 1308.4 -> 1312
        ((300, 500), 640, None, (640, 1067)),
        ((1000, 800), 640, None, (1000, 800)),  # already large enough: untouched
        ((1000, 810), 736, 32, (992, 800)),  # only rounded to multiples of 32
        ((10, 12), 16, 32, (32, 32)),  # never below one divisor
    ])
def test_output_size_and_scale_factor(hw, short, divisor, expected_hw):
    out = MinShortSideResize(short, divisor)(_image(*hw))
    assert out['img'].shape[:2] == expected_hw and out['img_shape'] == expected_hw
    if divisor or expected_hw == hw:  # mmocr's Resize to the size: the realised ratios
        assert out['scale_factor'] == pytest.approx(
            (expected_hw[1] / hw[1], expected_hw[0] / hw[0]))
    else:  # Paddle's MakePseGt: one factor
        assert out['scale_factor'] == (short / min(hw), ) * 2
    if divisor:
        assert expected_hw[0] % divisor == 0 and expected_hw[1] % divisor == 0


def test_polygons_move_with_pixels(geo):
    out = MinShortSideResize(320, 32)(geo.drawn_polygon_results(150, 250, [QUAD]))
    assert out['img'].shape[:2] == (320, 544)
    geo.assert_polygons_follow_pixels(out)


def test_test_pipeline_keeps_gt_in_original_coordinates_and_maps_back(geo):
    """MMOCR convention: annotations are loaded after the resize; scale_factor maps back."""
    drawn = geo.drawn_polygon_results(150, 250, [QUAD])
    results = dict(
        img=drawn['img'],
        img_shape=(150, 250),
        ori_shape=(150, 250),
        img_path='x.png',
        instances=[dict(polygon=QUAD, bbox=[35, 30, 200, 110], bbox_label=0, ignore=False)])
    pipeline = Compose([
        dict(type='mmpse_ext.MinShortSideResize', min_short_side=320, size_divisor=32),
        dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True, with_label=True),
    ])
    out = pipeline(results)
    np.testing.assert_allclose(out['gt_polygons'][0], QUAD)  # original coordinates
    # the text the network sees on the resized image is the original polygon times
    # scale_factor, so dividing a prediction by scale_factor lands on the original
    resized_white = out['img'][..., 0] > 127
    seen = np.array(QUAD, np.float64).reshape(-1, 2) * out['scale_factor']
    assert geo.iou(resized_white, geo.polygon_mask(resized_white.shape, [seen])) > 0.95


def test_training_enlargement_is_paddles_make_pse_gt_resize(geo, paddle_make_pse_gt):
    results = geo.drawn_polygon_results(300, 470,
                                        [QUAD, [300.4, 200.7, 420, 190, 425, 240, 305, 250]])
    results['img'] = (np.random.default_rng(0).random((300, 470, 3)) * 255).astype(np.uint8)
    data = dict(
        image=results['img'].copy(),
        polys=np.array([np.reshape(p, (-1, 2)) for p in results['gt_polygons']]),
        ignore_tags=[False, False])
    paddle = paddle_make_pse_gt(size=640)(data)
    out = MinShortSideResize(640)(results)
    np.testing.assert_array_equal(out['img'], paddle['image'])
    for ours, theirs in zip(out['gt_polygons'], paddle['polys']):
        np.testing.assert_array_equal(ours, theirs.reshape(-1))
    assert out['img_shape'] == paddle['image'].shape[:2]
    # and the polygons still follow the pixels
    geo.assert_polygons_follow_pixels(
        MinShortSideResize(640)(geo.drawn_polygon_results(300, 470, [QUAD])))


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match='min_short_side'):
        MinShortSideResize(0)
    with pytest.raises(ValueError, match='size_divisor'):
        MinShortSideResize(640, 0)
