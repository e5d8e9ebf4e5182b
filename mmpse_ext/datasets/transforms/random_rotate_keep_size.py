"""Random rotation about the image centre that keeps the image size."""
import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from ...registry import TRANSFORMS
from ._utils.instance_filter import keep_instances, polygons_to_bboxes


@TRANSFORMS.register_module()
class RandomRotateKeepSize(BaseTransform):
    """Rotate image and polygons by ``angle ~ U(-max_angle, max_angle)`` degrees.

    The PSENet recipe's ``Affine rotate=[-10, 10]`` (docs/recipe.md): the output has the input's
    size, corners that leave the frame are cut, uncovered areas get ``border_value``. Image
    and polygons use one rotation about the same physical point (the centre ``(w/2, h/2)`` in
    mmocr's continuous coordinates, ``((w-1)/2, (h-1)/2)`` in OpenCV's pixel-index
    coordinates), so polygons move exactly with the pixels (mmocr's own ``RandomRotate`` with
    ``use_canvas=False`` goes through imgaug with nearest-neighbour sampling). Polygons keep
    their vertices even where they leave the image (targets are clipped when drawn, and a
    shrunk kernel stays right for a word cut by the border); instances entirely outside are
    dropped; ``gt_bboxes`` are recomputed from the polygons.

    Required keys: ``img``. Modified keys: ``img``, ``gt_polygons``, ``gt_bboxes`` and the
    other per-instance keys. Added keys: ``rotated_angle`` (degrees, counter-clockwise).

    Args:
        max_angle (float): Largest absolute angle in degrees.
        border_value (int): Fill value for uncovered pixels.
        interpolation (int): OpenCV interpolation flag.
    """

    def __init__(self,
                 max_angle: float = 10.0,
                 border_value: int = 0,
                 interpolation: int = cv2.INTER_LINEAR) -> None:
        if max_angle < 0:
            raise ValueError(f'max_angle must be >= 0, got {max_angle}')
        self.max_angle = float(max_angle)
        self.border_value = border_value
        self.interpolation = interpolation

    @cache_randomness
    def _sample_angle(self) -> float:
        return float(np.random.uniform(-self.max_angle, self.max_angle))

    def transform(self, results: dict) -> dict:
        """Rotate by a freshly sampled angle."""
        return self.rotate(results, self._sample_angle())

    def rotate(self, results: dict, angle: float) -> dict:
        """Rotate by a given angle (degrees, counter-clockwise on screen)."""
        img = results['img']
        h, w = img.shape[:2]
        img_matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
        results['img'] = cv2.warpAffine(
            img,
            img_matrix, (w, h),
            flags=self.interpolation,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=self.border_value)
        results['rotated_angle'] = angle
        if results.get('gt_polygons') is None:
            return results
        poly_matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        polygons = []
        for polygon in results['gt_polygons']:
            points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
            rotated = points @ poly_matrix[:, :2].T + poly_matrix[:, 2]
            polygons.append(rotated.reshape(-1).astype(np.float32))
        results['gt_polygons'] = polygons
        boxes = polygons_to_bboxes(polygons)
        results['gt_bboxes'] = boxes
        inside = (boxes[:, 2] > 0) & (boxes[:, 3] > 0) & (boxes[:, 0] < w) & (boxes[:, 1] < h)
        keep_instances(results, inside)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(max_angle={self.max_angle}, ' \
               f'border_value={self.border_value}, interpolation={self.interpolation})'
