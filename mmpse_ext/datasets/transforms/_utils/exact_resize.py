"""Resize image and annotations to an exact size, as the test-time resizes need it."""
from mmocr.datasets.transforms import Resize


def resize_to(results: dict, width: int, height: int, interpolation: str) -> dict:
    """Resize ``results`` to ``width × height`` with MMOCR's ``Resize`` (annotations unclipped).

    A size equal to the image's skips the full-image copy but still records the no-op
    (``scale``, ``scale_factor = (1, 1)``, ``keep_ratio``), so later steps can rely on them.
    """
    old_height, old_width = results['img'].shape[:2]
    if (width, height) == (old_width, old_height):
        results.update(scale=(width, height), scale_factor=(1.0, 1.0), keep_ratio=False)
        return results
    resize = Resize(
        scale=(width, height),
        keep_ratio=False,
        clip_object_border=False,
        interpolation=interpolation)
    return resize(results)
