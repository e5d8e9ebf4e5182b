"""TextAwareRandomCrop(pad=True): the official PSENet's random_crop_padding for images smaller
than the window (its CTW1500 / Total-Text recipes): zeros at the bottom and right of the image
and of every map, training mask included."""
import numpy as np
import pytest

from mmpse_ext.datasets.transforms import PSETargets, TextAwareRandomCrop


def _sample(h, w, polygons):
    rng = np.random.default_rng(0)
    results = dict(
        img=rng.integers(1, 255, (h, w, 3), dtype=np.uint8),
        img_shape=(h, w),
        gt_polygons=[np.asarray(p, np.float32) for p in polygons],
        gt_ignored=np.zeros(len(polygons), bool),
        gt_bboxes=np.zeros((len(polygons), 4), np.float32),
        gt_bboxes_labels=np.zeros(len(polygons), np.int64))
    return PSETargets(min_shrink_ratio=0.7)(results)


@pytest.mark.parametrize('seed', range(4))
def test_smaller_axes_are_padded_with_zeros_larger_ones_cropped(seed):
    np.random.seed(seed)
    word = [10, 20, 60, 18, 62, 40, 12, 42]
    before = _sample(90, 200, [word])  # shorter than the window, wider than it
    img, kernels, mask = before['img'].copy(), before['gt_kernels'].copy(), \
        before['gt_train_mask'].copy()
    out = TextAwareRandomCrop(crop_size=(128, 128), pad=True)(before)
    x, y = out['crop_offset']
    assert y == 0 and 0 <= x <= 200 - 128
    assert out['img'].shape == (128, 128, 3) and out['img_shape'] == (128, 128)
    assert out['gt_kernels'].shape == (7, 128, 128) and out['gt_train_mask'].shape == (128, 128)
    # reference: the window of the original, then copyMakeBorder-style zeros below it
    np.testing.assert_array_equal(out['img'][:90], img[:, x:x + 128])
    np.testing.assert_array_equal(out['gt_kernels'][:, :90], kernels[:, :, x:x + 128])
    np.testing.assert_array_equal(out['gt_train_mask'][:90], mask[:, x:x + 128])
    assert not out['img'][90:].any() and not out['gt_kernels'][:, 90:].any()
    assert not out['gt_train_mask'][90:].any()  # padding is left out of the loss


def test_without_pad_the_small_axis_is_kept_whole():
    word = [10, 20, 60, 20, 60, 40, 10, 40]
    out = TextAwareRandomCrop(crop_size=(128, 128))(_sample(90, 100, [word]))
    assert out['img'].shape == (90, 100, 3) and out['gt_kernels'].shape == (7, 90, 100)
    assert 'pad=False' in repr(TextAwareRandomCrop())
