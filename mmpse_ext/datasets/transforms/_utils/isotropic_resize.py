"""Book-keeping shared by the transforms that resize image and annotations by one factor."""
import numpy as np


def store_isotropic_resize(results: dict, img: np.ndarray, factor: float) -> dict:
    """Put an image resized by ``factor`` (both sides) into ``results`` with its annotations.

    Sets ``img``, ``img_shape``, ``scale``, ``scale_factor = (factor, factor)`` and
    ``keep_ratio`` as mmcv's ``Resize`` does, and multiplies ``gt_polygons`` and ``gt_bboxes``
    by ``factor`` (PaddleOCR scales its annotations by the factor, not by the rounded size).

    Args:
        results (dict): the transform's results; edited in place.
        img (np.ndarray): the resized image.
        factor (float): the scale factor the image was resized by.

    Returns:
        dict: ``results``.
    """
    results['img'] = img
    results['img_shape'] = img.shape[:2]
    results.update(
        scale=(img.shape[1], img.shape[0]), scale_factor=(factor, factor), keep_ratio=True)
    if results.get('gt_polygons') is not None:
        results['gt_polygons'] = [np.asarray(p) * factor for p in results['gt_polygons']]
    if results.get('gt_bboxes') is not None:
        results['gt_bboxes'] = results['gt_bboxes'] * factor
    return results
