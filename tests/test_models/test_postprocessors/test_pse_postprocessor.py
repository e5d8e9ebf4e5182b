"""PSEPostprocessor: hand-built logits → exact polygons; AND filter; rescale; naive parity."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmocr.structures import TextDetDataSample

from mmpse_ext.models.postprocessors import PSEPostprocessor
from mmpse_ext.ops import progressive_scale_expansion

# Low-resolution (1/4) logits: +HIGH inside, BACKGROUND elsewhere. With a background this
# negative the ×4 bilinear upsampling is positive exactly on the fully-inside cells, so low-res
# rows r0..r1 become input rows 4·r0 + 2 .. 4·r1 + 1 (same for columns).
BACKGROUND = -100.0
HIGH = 5.0  # sigmoid = 0.9933
LOW = 0.5  # sigmoid = 0.6225, below the 0.85 score threshold


def _block(logits, channel, rows, cols, value=HIGH):
    logits[channel, rows[0]:rows[1] + 1, cols[0]:cols[1] + 1] = value


def _full_res(rows):
    """Input-resolution inclusive range of a low-res inclusive range."""
    return 4 * rows[0] + 2, 4 * rows[1] + 1


def _hand_built_logits():
    """K = 3 maps, 16×24 (input 64×96) with four instances.

    A and B touch: one connected text region (rows 3..8, cols 2..17) holding two separate
    middle kernels and two seeds; the expansion splits the text region between them at the
    column equidistant from both middle kernels. C is large but its text score is low; D is
    confident but small.
    """
    logits = torch.full((3, 16, 24), BACKGROUND)
    _block(logits, 0, (3, 8), (2, 17))  # text of A and B, touching
    _block(logits, 1, (4, 7), (3, 8))  # A middle kernel: input x 14..33
    _block(logits, 1, (4, 7), (11, 16))  # B middle kernel: input x 46..65
    _block(logits, 2, (5, 6), (4, 6))  # A seed
    _block(logits, 2, (5, 6), (12, 15))  # B seed
    for channel in range(3):  # C: 6×8 low-res block, low score in the text map only
        _block(logits, channel, (10, 13), (2, 9), LOW if channel == 0 else HIGH)
    for channel in range(3):  # D: 2×2 low-res block → 4×4 = 16 input pixels
        _block(logits, channel, (11, 12), (14, 15))
    return logits


# Expected instances in input coordinates (inclusive x0, y0, x1, y1).
# The text region spans x 10..69; A's middle kernel ends at x 33, B's starts at x 46: the 12
# pixels between are split 6/6 by the breadth-first expansion (no ties).
BOX_A = (10, 14, 39, 33)
BOX_B = (40, 14, 69, 33)
BOX_C = (10, 42, 37, 53)
BOX_D = (58, 46, 61, 49)


def _corners(box):
    x0, y0, x1, y1 = box
    return {(x0, y0), (x1, y0), (x1, y1), (x0, y1)}


def _point_set(polygon, decimals=3):
    points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    return {tuple(p) for p in np.round(points, decimals) + 0.0}


def _sample(img_shape=(64, 96), scale_factor=(1.0, 1.0), ori_shape=None):
    return TextDetDataSample(metainfo=dict(
        img_shape=img_shape, ori_shape=ori_shape or img_shape, scale_factor=scale_factor))


def test_hand_built_map_op_labels_are_the_expected_rectangles():
    # The premise of the polygon tests: the op splits A/B exactly where we expect.
    logits = _hand_built_logits()
    up = F.interpolate(logits[None], scale_factor=4, mode='bilinear', align_corners=False)[0]
    kernels = (up > 0) & (up[:1] > 0)
    result = progressive_scale_expansion(kernels, up[0].sigmoid(), 16)
    labels = result.labels.numpy()
    for label, box in enumerate((BOX_A, BOX_B, BOX_C, BOX_D), start=1):
        expected = np.zeros_like(labels, dtype=bool)
        expected[box[1]:box[3] + 1, box[0]:box[2] + 1] = True
        assert np.array_equal(labels == label, expected), label
    assert result.areas.tolist() == [600, 600, 336, 16]


@pytest.mark.parametrize('text_repr_type', ['quad', 'poly'])
def test_touching_instances_give_exactly_the_expected_polygons(text_repr_type):
    postprocessor = PSEPostprocessor(text_repr_type=text_repr_type, min_text_area=17)
    sample = postprocessor([_hand_built_logits()[None]][0], [_sample()])[0]
    polygons = sample.pred_instances.polygons
    assert len(polygons) == 2
    assert all(p.dtype == np.float32 and p.ndim == 1 for p in polygons)
    # Rectangles: both the minimum-area rectangle and the simplified contour are the 4 corners.
    assert [len(p) for p in polygons] == [8, 8]
    assert _point_set(polygons[0]) == _corners(BOX_A)
    assert _point_set(polygons[1]) == _corners(BOX_B)
    scores = sample.pred_instances.scores
    assert scores.dtype == torch.float32
    assert torch.allclose(scores, torch.full((2, ), float(torch.sigmoid(torch.tensor(HIGH)))),
                          atol=1e-6)


def test_filter_requires_area_and_score():
    logits = _hand_built_logits()
    both = PSEPostprocessor(min_text_area=17)
    kept = both.decode(logits, (64, 96))[0]
    assert [_point_set(p) for p in kept] == [_corners(BOX_A), _corners(BOX_B)]
    # C passes the area test only, D the score test only; each is kept once its failing test
    # is relaxed, so it is the AND that removes them (MMOCR's OR would keep both).
    no_score_test = PSEPostprocessor(min_text_area=17, score_threshold=0.0)
    assert _corners(BOX_C) in [_point_set(p) for p in no_score_test.decode(logits)[0]]
    no_area_test = PSEPostprocessor(min_text_area=0)
    assert _corners(BOX_D) in [_point_set(p) for p in no_area_test.decode(logits)[0]]
    # Thresholds are inclusive: area 16 >= 16 keeps D.
    assert len(PSEPostprocessor(min_text_area=16).decode(logits)[0]) == 3


def test_kernel_seed_area_filter():
    # min_kernel_area drops D's 16-pixel seed before the expansion.
    kept = PSEPostprocessor(min_text_area=0, min_kernel_area=17).decode(_hand_built_logits())[0]
    assert _corners(BOX_D) not in [_point_set(p) for p in kept]
    assert len(kept) == 2


def test_rescale_to_original_image_and_clip():
    # The input was resized by 0.5 from a 128×192 original: coordinates double.
    postprocessor = PSEPostprocessor(min_text_area=17)
    sample = postprocessor(_hand_built_logits()[None],
                           [_sample(scale_factor=(0.5, 0.5), ori_shape=(128, 192))])[0]
    assert _point_set(sample.pred_instances.polygons[0]) == {
        (2 * x, 2 * y) for x, y in _corners(BOX_A)}
    # An original smaller than the rescaled box: points are clipped to [0, W] × [0, H].
    sample = postprocessor(_hand_built_logits()[None],
                           [_sample(scale_factor=(0.5, 0.5), ori_shape=(50, 60))])[0]
    points = sample.pred_instances.polygons[1].reshape(-1, 2)
    assert points[:, 0].max() == 60 and points[:, 1].max() == 50
    assert sample.pred_instances.polygons[1].dtype == np.float32


def test_crops_to_unpadded_image_shape():
    # Logits of a padded batch: rows >= 40 and columns >= 60 are padding. C and D lie in the
    # padding and vanish even without the area test; B is cut at x = 59.
    postprocessor = PSEPostprocessor(min_text_area=0)
    kept = postprocessor.decode(_hand_built_logits(), (40, 60))[0]
    assert [_point_set(p) for p in kept] == [_corners(BOX_A), _corners((40, 14, 59, 33))]


def test_poly_follows_the_outline_of_an_l_shaped_instance():
    logits = torch.full((2, 12, 12), BACKGROUND)
    _block(logits, 0, (2, 8), (2, 4))
    _block(logits, 0, (7, 8), (5, 9))
    _block(logits, 1, (3, 7), (3, 4))
    polygons = PSEPostprocessor(text_repr_type='poly').decode(logits)[0]
    assert len(polygons) == 1
    # Input rows 10..33 × cols 10..17 plus rows 30..33 × cols 18..37; in the concave corner
    # the bilinear cell with three positive corners adds (18, 28), (18, 29), (19, 29)
    # (5 - 105·wx·(1 - wy) > 0), a diagonal that the simplified contour keeps as its ends.
    assert _point_set(polygons[0]) == {(10, 10), (17, 10), (17, 27), (20, 30), (37, 30),
                                       (37, 33), (10, 33)}
    quad = PSEPostprocessor(text_repr_type='quad').decode(logits)[0][0]
    assert len(quad) == 8


def test_thin_instance_poly_falls_back_to_quad():
    # Low-res row 3 = +1 between -6 above and -100 below: only input row 13 is positive
    # (-6 · 0.125 + 1 · 0.875 > 0), columns 10..33: a one-pixel-high line of 24 pixels whose
    # contour has 2 points.
    logits = torch.full((2, 8, 12), BACKGROUND)
    for channel in range(2):
        _block(logits, channel, (2, 2), (2, 8), -6.0)
        _block(logits, channel, (3, 3), (2, 8), 1.0)
    poly = PSEPostprocessor(text_repr_type='poly', score_threshold=0.0).decode(logits)[0]
    quad = PSEPostprocessor(text_repr_type='quad', score_threshold=0.0).decode(logits)[0]
    assert len(poly) == len(quad) == 1
    assert np.array_equal(poly[0], quad[0])
    assert _point_set(poly[0]) == {(10, 13), (33, 13)}  # a degenerate rectangle on the line


def test_no_text_gives_empty_instances():
    sample = PSEPostprocessor()(torch.full((1, 7, 8, 8), -3.0), [_sample((32, 32))])[0]
    assert sample.pred_instances.polygons == []
    assert sample.pred_instances.scores.shape == (0, ) and \
        sample.pred_instances.scores.dtype == torch.float32


def _naive_decode(logits, text_repr_type='quad', min_kernel_area=16, min_text_area=16,
                  score_threshold=0.85):
    """Straightforward full-resolution implementation: per-instance full-image masks.

    Returns cv2.minAreaRect tuples for 'quad', full-image outer contours for 'poly'.
    """
    up = F.interpolate(logits[None], scale_factor=4, mode='bilinear', align_corners=False)[0]
    kernels = (up > 0) & (up[:1] > 0)
    score = up[0].sigmoid()
    labels = progressive_scale_expansion(kernels, score, min_kernel_area).labels.numpy()
    score = score.numpy()
    rects = []
    for label in range(1, labels.max() + 1):
        ys, xs = np.nonzero(labels == label)
        if len(xs) < min_text_area or score[ys, xs].mean() < score_threshold:
            continue
        if text_repr_type == 'quad':
            rects.append(cv2.minAreaRect(np.stack([xs, ys], 1).astype(np.int32)))
        else:
            contours, _ = cv2.findContours((labels == label).astype(np.uint8),
                                           cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            rects.append(contours[0].reshape(-1, 2))
    return rects


def _smooth_random_logits(seed):
    generator = torch.Generator().manual_seed(seed)
    logits = F.interpolate(torch.randn((1, 7, 6, 8), generator=generator) * 6 + 2,
                           size=(40, 56), mode='bilinear', align_corners=False)[0]
    return logits - torch.arange(7.0)[:, None, None]  # smaller kernels


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_quads_match_a_naive_full_resolution_implementation(seed):
    logits = _smooth_random_logits(seed)
    expected = _naive_decode(logits)
    ours = PSEPostprocessor(text_repr_type='quad').decode(logits)[0]
    assert len(ours) == len(expected) > 0
    for polygon, rect in zip(ours, expected):
        corners = cv2.boxPoints(rect)
        # Same rectangle up to the corner order: compare areas and the corner sets.
        assert cv2.contourArea(polygon.reshape(-1, 2)) == pytest.approx(
            cv2.contourArea(corners), rel=1e-4, abs=1e-3)
        assert _point_set(polygon, 2) == _point_set(corners, 2)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_polys_equal_full_image_contours(seed):
    logits = _smooth_random_logits(seed)
    expected = _naive_decode(logits, 'poly')
    ours = PSEPostprocessor(text_repr_type='poly').decode(logits)[0]
    assert len(ours) == len(expected) > 0
    for polygon, contour in zip(ours, expected):
        if len(contour) >= 3:
            assert np.array_equal(polygon.reshape(-1, 2), contour.astype(np.float32))


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_cpu_fused_op_and_the_cuda_path_give_the_same_instances(seed):
    """CPU decode runs the fused op; CUDA inputs take upsampled_positive_mask + the op. Run the
    latter on CPU tensors: same labels and statistics. The two round differently, so logits are
    multiples of 1/8 here: every interpolation step is then exact in both, ties at 0 included."""
    from mmpse_ext.models.postprocessors import upsampled_positive_mask
    from mmpse_ext.ops import progressive_scale_expansion_from_logits
    logits = torch.round(_smooth_random_logits(seed) * 8) / 8
    up = F.interpolate(logits[None], scale_factor=4, mode='bilinear', align_corners=False)[0]
    size = (150, 222)  # cropped, as for a padded batch
    fused = progressive_scale_expansion_from_logits(logits, 4, size, 16)
    kernels = upsampled_positive_mask(logits, 4, size)
    kernels[1:] &= kernels[:1]
    score = up[0, :size[0], :size[1]].sigmoid().contiguous()
    device_path = progressive_scale_expansion(kernels, score, 16)
    assert len(fused.areas) > 0
    assert torch.equal(fused.labels, device_path.labels)
    assert torch.equal(fused.areas, device_path.areas)
    assert torch.equal(fused.boxes, device_path.boxes)
    torch.testing.assert_close(fused.score_sums, device_path.score_sums, rtol=1e-5, atol=1e-5)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match='text_repr_type'):
        PSEPostprocessor(text_repr_type='box')
    with pytest.raises(ValueError, match='min_kernel_area'):
        PSEPostprocessor(min_kernel_area=-1)
    with pytest.raises(ValueError, match='logit_stride'):
        PSEPostprocessor(logit_stride=3)
    with pytest.raises(ValueError, match=r'\[K, h, w\]'):
        PSEPostprocessor().get_text_instances(torch.zeros(8, 8), _sample())


@pytest.mark.needs_cuda
@pytest.mark.parametrize('text_repr_type', ['quad', 'poly'])
def test_cuda_logits_give_the_cpu_polygons(text_repr_type):
    postprocessor = PSEPostprocessor(text_repr_type=text_repr_type, min_text_area=0)
    logits = _hand_built_logits()
    cpu_polygons, cpu_scores = postprocessor.decode(logits)
    cuda_polygons, cuda_scores = postprocessor.decode(logits.cuda())
    assert len(cuda_polygons) == len(cpu_polygons) == 4
    for ours, reference in zip(cuda_polygons, cpu_polygons):
        assert _point_set(ours) == _point_set(reference)
    assert np.allclose(cuda_scores, cpu_scores, atol=1e-5)
