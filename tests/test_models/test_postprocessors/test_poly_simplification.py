"""PSEPostprocessor(poly_epsilon=...): curved words as a few dozen points instead of a
pixel contour, covering the same region; the default output is the full contour."""
import cv2
import numpy as np
import pytest
import shapely
import torch
import torch.nn.functional as F
from mmocr.structures import TextDetDataSample

from mmpse_ext.models.postprocessors import PSEPostprocessor
from mmpse_ext.ops import progressive_scale_expansion

WORDS = [  # circular arcs in 1/4-resolution cells: centre (x, y), radius, angles, half height
    (np.array([50.0, 100.0]), 80.0, -2.0, -1.0, 2.5),
    (np.array([128.0, 190.0]), 150.0, -1.75, -1.4, 2.0),
]


def curved_logits():
    """K = 3 logits at 1/4 resolution (56 x 160, input 224 x 640), smooth as a network's: each
    channel is 4 x (half height - distance to the nearest word's arc), the kernels with 0.7 and
    0.4 of the half height. Two words: a long curved one (57 degrees of a radius-80-cell arc)
    and a gently curved one."""
    ys, xs = np.mgrid[0:56, 0:160].astype(np.float64)
    logits = np.full((3, 56, 160), -100.0)
    for centre, radius, a0, a1, half in WORDS:
        angles = np.arctan2(ys - centre[1], xs - centre[0])
        along = (angles >= a0) & (angles <= a1)
        across = np.abs(np.hypot(xs - centre[0], ys - centre[1]) - radius)
        for channel, shrink in enumerate((1.0, 0.7, 0.4)):
            value = np.where(along, 4 * (half * shrink - across), -100.0)
            logits[channel] = np.maximum(logits[channel], value)
    return torch.from_numpy(logits.astype(np.float32))


def full_contours(logits):
    """The unsimplified output, computed plainly: full-resolution masks, the op's labels, the
    outer contour of each instance in the whole image."""
    up = F.interpolate(logits[None], scale_factor=4, mode='bilinear', align_corners=False)[0]
    labels = progressive_scale_expansion((up > 0) & (up[:1] > 0), up[0].sigmoid(),
                                         16).labels.numpy()
    contours = []
    for label in range(1, labels.max() + 1):
        found, _ = cv2.findContours((labels == label).astype(np.uint8), cv2.RETR_EXTERNAL,
                                    cv2.CHAIN_APPROX_SIMPLE)
        contours.append(found[0].reshape(-1).astype(np.float32))
    return contours


def test_default_output_is_the_full_pixel_contour():
    logits = curved_logits()
    expected = full_contours(logits)
    ours = PSEPostprocessor(text_repr_type='poly').decode(logits)[0]
    assert len(ours) == len(expected) == 2
    for polygon, contour in zip(ours, expected):
        np.testing.assert_array_equal(polygon, contour)
    assert max(len(p) // 2 for p in ours) > 150  # a pixel staircase: what the option is for
    explicit_off = PSEPostprocessor(text_repr_type='poly', poly_epsilon=0).decode(logits)[0]
    for polygon, contour in zip(explicit_off, expected):
        np.testing.assert_array_equal(polygon, contour)


@pytest.mark.parametrize('epsilon, max_points, min_iou', [(1.0, 40, 0.95), (2.0, 30, 0.93)])
def test_simplified_polygons_are_few_vertices_of_the_contour_covering_the_same_region(
        epsilon, max_points, min_iou):
    logits = curved_logits()
    full = full_contours(logits)
    simple = PSEPostprocessor(text_repr_type='poly', poly_epsilon=epsilon).decode(logits)[0]
    assert len(simple) == len(full)
    for polygon, contour in zip(simple, full):
        points = polygon.reshape(-1, 2)
        assert 3 <= len(points) <= max_points
        # Douglas-Peucker keeps a subset of the contour's vertices
        assert {tuple(p) for p in points} <= {tuple(p) for p in contour.reshape(-1, 2)}
        ours, reference = shapely.Polygon(points), shapely.Polygon(contour.reshape(-1, 2))
        assert ours.is_valid
        iou = ours.intersection(reference).area / ours.union(reference).area
        assert iou >= min_iou
        # every contour vertex lies within epsilon of the simplified outline
        assert max(ours.exterior.distance(shapely.Point(p))
                   for p in contour.reshape(-1, 2)) <= epsilon + 1e-6


def test_simplified_polygons_are_rescaled_like_the_others():
    logits = curved_logits()
    sample = TextDetDataSample(
        metainfo=dict(img_shape=(224, 640), ori_shape=(448, 1280), scale_factor=(0.5, 0.5)))
    postprocessor = PSEPostprocessor(text_repr_type='poly', poly_epsilon=1.0)
    rescaled = postprocessor(logits[None], [sample])[0].pred_instances.polygons
    for polygon, in_input in zip(rescaled, postprocessor.decode(logits)[0]):
        np.testing.assert_allclose(polygon, in_input * 2)


def test_quads_ignore_the_option():
    logits = curved_logits()
    plain = PSEPostprocessor(text_repr_type='quad').decode(logits)[0]
    with_option = PSEPostprocessor(text_repr_type='quad', poly_epsilon=2.0).decode(logits)
    for a, b in zip(plain, with_option[0]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('epsilon', [-0.5, float('inf'), float('nan')])
def test_bad_epsilon_is_rejected(epsilon):
    with pytest.raises(ValueError, match='poly_epsilon must be None or a finite number'):
        PSEPostprocessor(text_repr_type='poly', poly_epsilon=epsilon)
