"""PSETargets on curved text: CTW1500's 14-point polygons and Total-Text's polygons of any length
equal PaddleOCR's MakePseGt pixel for pixel, at the ICDAR2015 recipe's 0.4 and at the 0.7 the
official PSENet uses for CTW1500 and Total-Text."""
import numpy as np
import pytest

from mmpse_ext.datasets.parsers import BadDataLog, InstanceRules, read_totaltext_file
from mmpse_ext.datasets.transforms import PSETargets


def _arc_word(rng, h, w):
    """A CTW1500-like word: 7 points along an arc on top, 7 back along a parallel arc below."""
    radius = rng.uniform(40, 400)
    span = rng.uniform(0.2, 1.6)  # radians
    height = rng.uniform(3, 40)
    centre = np.array([rng.uniform(-20, w + 20), rng.uniform(-20, h + 20) + radius])
    angles = np.linspace(-span / 2, span / 2, 7) + rng.uniform(-0.5, 0.5)
    outer = centre + radius * np.stack([np.sin(angles), -np.cos(angles)], 1)
    inner = centre + (radius - height) * np.stack([np.sin(angles), -np.cos(angles)], 1)
    return np.vstack([outer, inner[::-1]]).reshape(-1)


def _results(h, w, polygons, ignored):
    return dict(
        img=np.zeros((h, w, 3), np.uint8),
        gt_polygons=[np.asarray(p, np.float32).reshape(-1) for p in polygons],
        gt_ignored=np.array(ignored, bool))


def _paddle_maps(make_pse_gt, h, w, polygons, ignored, min_shrink_ratio):
    """MakePseGt on the polygons as PaddleOCR's DetLabelEncode hands them over: one float32
    array, shorter polygons padded by repeating their last point (``expand_points_num``)."""
    points = [np.asarray(p, np.float32).reshape(-1, 2) for p in polygons]
    longest = max(len(p) for p in points)
    padded = np.array([np.vstack([p] + [p[-1:]] * (longest - len(p))) for p in points])
    data = dict(
        image=np.zeros((h, w, 3), np.uint8), polys=padded, ignore_tags=[bool(t) for t in ignored])
    out = make_pse_gt(kernel_num=7, min_shrink_ratio=min_shrink_ratio, size=0)(data)
    maps = out['gt_kernels'].astype(np.uint8)
    kernels = np.concatenate([out['gt_text'][None].astype(np.uint8), maps[:6]])
    return kernels, out['mask'].astype(np.uint8), np.array(out['ignore_tags'], bool)


def _assert_same_as_paddle(make_pse_gt, h, w, polygons, ignored, min_shrink_ratio):
    ours = PSETargets(
        kernel_num=7, min_shrink_ratio=min_shrink_ratio)(
            _results(h, w, polygons, ignored))
    kernels, mask, tags = _paddle_maps(make_pse_gt, h, w, polygons, ignored, min_shrink_ratio)
    for channel in range(7):
        np.testing.assert_array_equal(
            ours['gt_kernels'][channel], kernels[channel], err_msg=f'channel {channel}')
    np.testing.assert_array_equal(ours['gt_train_mask'], mask)
    assert ours['gt_ignored'].tolist() == tags.tolist()
    return ours


@pytest.mark.parametrize('min_shrink_ratio', [0.4, 0.7])
@pytest.mark.parametrize('seed', range(6))
def test_ctw1500_fourteen_point_words_equal_paddle(paddle_make_pse_gt, seed, min_shrink_ratio):
    rng = np.random.default_rng(seed)
    h, w = 160 + int(rng.integers(0, 96)), 200 + int(rng.integers(0, 96))
    polygons = [_arc_word(rng, h, w) for _ in range(8)]
    ignored = rng.random(8) < 0.2
    ours = _assert_same_as_paddle(paddle_make_pse_gt, h, w, polygons, ignored, min_shrink_ratio)
    assert ours['gt_kernels'][6].any()


@pytest.mark.parametrize('min_shrink_ratio', [0.4, 0.7])
def test_totaltext_polygons_of_any_length_equal_paddle(paddle_make_pse_gt, curved_root,
                                                       min_shrink_ratio):
    # the synthetic set's Total-Text files (4-point straight and 14-point curved words) plus
    # a long released-style polygon, read by our reader
    for path in sorted(curved_root.glob('txt_format/*/poly_gt_img*.txt')):
        instances = read_totaltext_file(
            str(path), BadDataLog(), InstanceRules(dont_care_texts=('#', )))
        polygons = [i['polygon'] for i in instances]
        ignored = [i['ignore'] for i in instances]
        xs = [
            45, 77, 115, 153, 193, 233, 273, 306, 343, 375, 411, 450, 487, 501, 467, 433, 396, 360,
            323, 286, 251, 214, 176, 140, 108, 75, 52
        ]
        ys = [
            244, 226, 212, 203, 199, 199, 203, 211, 222, 237, 255, 275, 298, 325, 308, 290, 273,
            258, 246, 236, 230, 228, 231, 236, 244, 256, 272
        ]
        polygons.append([v for xy in zip(xs, ys) for v in xy])
        ignored.append(False)
        assert {len(p) // 2 for p in polygons} >= {14, 27}
        ours = _assert_same_as_paddle(paddle_make_pse_gt, 340, 520, polygons, ignored,
                                      min_shrink_ratio)
        assert ours['gt_kernels'][6].any()
