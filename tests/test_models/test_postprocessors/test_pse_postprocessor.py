"""PSEPostprocessor: hand-built logits → exact polygons; AND filter; rescale; naive parity;
every decode path (CPU fused, host_expand, device_bfs) and the CUDA dispatch on CPU."""
import warnings

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from cuda_typed_tensor import PSE_CALLS, CudaTypedTensor, cuda_typed, emulate_pse_cuda_kernels
from mmocr.structures import TextDetDataSample

from mmpse_ext.models.postprocessors import CUDA_DECODE_PATHS, PSEPostprocessor
from mmpse_ext.ops import (extension, progressive_scale_expansion,
                           progressive_scale_expansion_from_logits)

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
    return TextDetDataSample(
        metainfo=dict(
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
    assert torch.allclose(
        scores, torch.full((2, ), float(torch.sigmoid(torch.tensor(HIGH)))), atol=1e-6)


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
    assert _point_set(sample.pred_instances.polygons[0]) == {(2 * x, 2 * y)
                                                             for x, y in _corners(BOX_A)}
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
    assert _point_set(polygons[0]) == {(10, 10), (17, 10), (17, 27), (20, 30), (37, 30), (37, 33),
                                       (10, 33)}
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


def _naive_decode(logits,
                  text_repr_type='quad',
                  min_kernel_area=16,
                  min_text_area=16,
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
            contours, _ = cv2.findContours((labels == label).astype(np.uint8), cv2.RETR_EXTERNAL,
                                           cv2.CHAIN_APPROX_SIMPLE)
            rects.append(contours[0].reshape(-1, 2))
    return rects


def _smooth_random_logits(seed):
    generator = torch.Generator().manual_seed(seed)
    logits = F.interpolate(
        torch.randn((1, 7, 6, 8), generator=generator) * 6 + 2,
        size=(40, 56),
        mode='bilinear',
        align_corners=False)[0]
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
    # Every instance here is at least two pixels thick (the fallback of thinner ones to their
    # quad has its own test), so every polygon must be the full-image contour.
    assert all(len(contour) >= 3 for contour in expected)
    for polygon, contour in zip(ours, expected):
        assert np.array_equal(polygon.reshape(-1, 2), contour.astype(np.float32))


def _exact_logits(seed):
    """Multiples of 1/8: every ×4 interpolation step is exact in float32 on every path (ties at
    the threshold included), so all paths must agree exactly."""
    return torch.round(_smooth_random_logits(seed) * 8) / 8


def _assert_same_result(result, expected):
    assert torch.equal(result.labels.cpu(), expected.labels)
    assert torch.equal(result.areas.cpu(), expected.areas)
    assert torch.equal(result.boxes.cpu(), expected.boxes)
    torch.testing.assert_close(result.score_sums.cpu(), expected.score_sums, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_accelerator_paths_on_cpu_tensors_equal_the_fused_path(seed):
    """host_expand (masks bit-packed, expanded from the bytes) and device_bfs (unpacked masks,
    score map, mask op) run on CPU tensors: the fused CPU path's labels and statistics."""
    postprocessor = PSEPostprocessor()
    logits = _exact_logits(seed)
    size = (150, 222)  # cropped, as for a padded batch
    fused = postprocessor.expand(logits, size)
    assert len(fused.areas) > 0
    _assert_same_result(postprocessor.expand_on_host(logits, size), fused)
    _assert_same_result(postprocessor.expand_on_device(logits, size), fused)


@pytest.mark.parametrize('probability', [0.3, 0.5, 0.8])
def test_min_kernel_confidence_is_mmocrs_threshold_on_every_path(probability):
    """Reference: MMOCR's binarisation sigmoid(upsampled logit) > p (kernels masked by the text
    map) on torch's upsampling, expanded by the mask op (itself checked against the pure-Python
    reference of tests/test_ops/pse_reference.py in tests/test_ops/test_pse.py)."""
    postprocessor = PSEPostprocessor(min_kernel_confidence=probability)
    logits = _exact_logits(3)
    size = (160, 224)
    up = F.interpolate(logits[None], scale_factor=4, mode='bilinear', align_corners=False)[0]
    probabilities = up.sigmoid()
    # No pixel within rounding of p, except exact ties (logit 0 for p = 0.5: not inside in both)
    close = (probabilities - probability).abs() < 1e-6
    assert not bool((close & (up != postprocessor.logit_threshold)).any())
    masks = probabilities > probability
    masks[1:] &= masks[:1]
    expected = progressive_scale_expansion(masks, probabilities[0].contiguous(), 16)
    assert len(expected.areas) > 0
    _assert_same_result(postprocessor.expand(logits, size), expected)
    _assert_same_result(postprocessor.expand_on_host(logits, size), expected)
    _assert_same_result(postprocessor.expand_on_device(logits, size), expected)
    cuda_result = postprocessor.expand(cuda_typed(logits), size)  # the default CUDA path
    _assert_same_result(cuda_result, expected)


def test_default_min_kernel_confidence_is_logit_zero():
    postprocessor = PSEPostprocessor()
    assert postprocessor.min_kernel_confidence == 0.5 and postprocessor.logit_threshold == 0.0
    logits = _exact_logits(4)
    assert torch.equal(
        postprocessor.expand(logits, (160, 224)).labels,
        progressive_scale_expansion_from_logits(logits, 4, (160, 224), 16).labels)


@pytest.fixture
def cpu_only_build(monkeypatch):
    """The loaded extension reports no CUDA kernel (as a CPU-only build does); the once-only
    warnings are reset."""
    monkeypatch.setattr(extension, 'has_kernel', lambda op, device_type: device_type == 'cpu')
    monkeypatch.setattr(extension, '_WARNED', set())


@pytest.mark.parametrize('text_repr_type', ['quad', 'poly'])
def test_cuda_logits_decode_on_the_host_by_default_without_warning(cpu_only_build, text_repr_type):
    postprocessor = PSEPostprocessor(text_repr_type=text_repr_type, min_text_area=0)
    logits = _hand_built_logits()
    cpu_polygons, cpu_scores = postprocessor.decode(logits)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        cuda_polygons, cuda_scores = postprocessor.decode(cuda_typed(logits))
    assert len(cuda_polygons) == len(cpu_polygons) == 3  # A, B, D (C: mean score too low)
    for ours, reference in zip(cuda_polygons, cpu_polygons):
        assert np.array_equal(ours, reference)
    assert np.allclose(cuda_scores, cpu_scores, atol=1e-6)


def test_device_bfs_without_a_cuda_kernel_warns_once_and_expands_on_the_host(cpu_only_build):
    postprocessor = PSEPostprocessor(cuda_decode='device_bfs', min_text_area=0)
    logits = _hand_built_logits()
    cpu_polygons, _ = postprocessor.decode(logits)
    with pytest.warns(RuntimeWarning) as caught:
        for _ in range(3):
            cuda_polygons, _ = postprocessor.decode(cuda_typed(logits))
            assert [p.tolist() for p in cuda_polygons] == [p.tolist() for p in cpu_polygons]
    assert len(caught) == 1
    assert "cuda_decode='host_expand'" in str(caught[0].message)


def test_device_bfs_with_a_cuda_kernel_expands_on_the_device(monkeypatch):
    """With a CUDA kernel (emulated by the CPU kernel) the mask op runs on the CUDA-typed masks,
    the label map stays on the device, and only crops and statistics are copied."""
    monkeypatch.setattr(extension, 'has_kernel', lambda op, device_type: True)
    postprocessor = PSEPostprocessor(cuda_decode='device_bfs', min_text_area=0)
    logits = _hand_built_logits()
    cpu_polygons, cpu_scores = postprocessor.decode(logits)
    PSE_CALLS.clear()
    with emulate_pse_cuda_kernels():
        result = postprocessor.expand(cuda_typed(logits), (64, 96))
        cuda_polygons, cuda_scores = postprocessor.decode(cuda_typed(logits))
    assert PSE_CALLS == ['pse_ext::progressive_scale_expansion'] * 2
    assert isinstance(result.labels, CudaTypedTensor)
    assert [p.tolist() for p in cuda_polygons] == [p.tolist() for p in cpu_polygons]
    assert np.allclose(cuda_scores, cpu_scores, atol=1e-6)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match='text_repr_type'):
        PSEPostprocessor(text_repr_type='box')
    with pytest.raises(ValueError, match='min_kernel_area'):
        PSEPostprocessor(min_kernel_area=-1)
    with pytest.raises(ValueError, match='logit_stride'):
        PSEPostprocessor(logit_stride=3)
    with pytest.raises(ValueError, match=r'\[K, h, w\]'):
        PSEPostprocessor().get_text_instances(torch.zeros(8, 8), _sample())
    for probability in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(
                ValueError, match=f'min_kernel_confidence must be in \\(0, 1\\), '
                f'got {probability}'):
            PSEPostprocessor(min_kernel_confidence=probability)
    with pytest.raises(ValueError, match="cuda_decode must be one of .* got 'gpu'"):
        PSEPostprocessor(cuda_decode='gpu')


@pytest.mark.needs_cuda
@pytest.mark.parametrize('cuda_decode', CUDA_DECODE_PATHS)
@pytest.mark.parametrize('text_repr_type', ['quad', 'poly'])
def test_cuda_logits_give_the_cpu_polygons(text_repr_type, cuda_decode):
    postprocessor = PSEPostprocessor(
        text_repr_type=text_repr_type, min_text_area=0, cuda_decode=cuda_decode)
    logits = _hand_built_logits()
    cpu_polygons, cpu_scores = postprocessor.decode(logits)
    cuda_polygons, cuda_scores = postprocessor.decode(logits.cuda())
    assert len(cuda_polygons) == len(cpu_polygons) == 3  # A, B, D (C: mean score too low)
    for ours, reference in zip(cuda_polygons, cpu_polygons):
        assert _point_set(ours) == _point_set(reference)
    assert np.allclose(cuda_scores, cpu_scores, atol=1e-5)


@pytest.mark.needs_cuda
@pytest.mark.parametrize('probability', [0.3, 0.8])
def test_cuda_paths_apply_min_kernel_confidence_like_the_cpu(probability):
    logits = _exact_logits(5)
    expected = PSEPostprocessor(min_kernel_confidence=probability).expand(logits, (160, 224))
    for cuda_decode in CUDA_DECODE_PATHS:
        postprocessor = PSEPostprocessor(min_kernel_confidence=probability, cuda_decode=cuda_decode)
        _assert_same_result(postprocessor.expand(logits.cuda(), (160, 224)), expected)
