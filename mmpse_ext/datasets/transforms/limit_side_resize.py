"""Test-time resize in PaddleOCR's ``DetResizeForTest`` vocabulary, with a hard size cap."""
import math
import warnings
from typing import Optional, Tuple

from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS
from ._utils.exact_resize import resize_to

LIMIT_TYPES = ('min', 'max', 'resize_long')
ROUNDINGS = ('half_up', 'down')

#: Default cap on the network input, in pixels and on the longer side. The measured peak
#: resident memory of the flagship per input size is in docs/benchmarks.md ("Memory").
DEFAULT_MAX_PIXELS = 4096 * 1024
DEFAULT_MAX_SIDE = 4096


class InputSizeCapWarning(UserWarning):
    """An image was scaled below its scale rule's size to fit the network-input cap."""


@TRANSFORMS.register_module()
class LimitSideResize(BaseTransform):
    """Scale an image by a side-length rule, round both sides to a divisor, then cap the size.

    The rule (PaddleOCR's ``DetResizeForTest``, ``limit_side_len`` / ``limit_type``):

    - ``'min'``: enlarge so the short side is ``limit_side_len`` if it is shorter, else keep
      (the recipe's ICDAR2015 test resize, 736; docs/recipe.md);
    - ``'max'``: shrink so the long side is ``limit_side_len`` if it is longer, else keep
      (PaddleOCR's choice for photos, e.g. 960);
    - ``'resize_long'``: scale so the long side is ``limit_side_len``, up or down.

    Then each side becomes ``side * ratio`` rounded to a whole pixel (``rounding``) and to the
    nearest multiple of ``size_divisor`` (at least one divisor), so the aspect ratio may change
    slightly; mmocr's ``Resize`` records the realised ``scale_factor = (new_w / w, new_h / h)``
    that maps predictions back.

    The cap comes last, whatever the rule: a size with more than ``max_pixels`` pixels or a side
    longer than ``max_side`` is scaled down uniformly to fit, each side rounded *down* to a
    multiple of the divisor (at least one divisor; the long side is shortened further if that
    floor would break ``max_pixels``), with one :class:`InputSizeCapWarning` naming the file
    and both sizes. Without it the ``'min'`` rule turns a 2000×3 strip into 736×490,667.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``, ``gt_polygons``,
    ``gt_bboxes``. Added keys: ``scale``, ``scale_factor``, ``keep_ratio``.

    Args:
        limit_side_len (int): the side length of the rule.
        limit_type (str): ``'min'``, ``'max'`` or ``'resize_long'``.
        size_divisor (int): round both sides to a multiple of this (the network's stride).
        max_pixels (int, optional): most pixels of the output; ``None``: no pixel cap.
        max_side (int, optional): longest output side; ``None``: no side cap.
        rounding (str): how ``side * ratio`` becomes whole pixels before the divisor rounding:
            ``'half_up'`` (``int(x + 0.5)``, the recipe's, unchanged since its first release)
            or ``'down'`` (``int(x)``, PaddleOCR's arithmetic). They differ by one divisor
            step on 0.5-2 % of sizes (not on ICDAR2015's 1280×720; docs/recipe.md).
        interpolation (str): mmcv interpolation name.
    """

    def __init__(self,
                 limit_side_len: int = 736,
                 limit_type: str = 'min',
                 size_divisor: int = 32,
                 max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                 max_side: Optional[int] = DEFAULT_MAX_SIDE,
                 rounding: str = 'half_up',
                 interpolation: str = 'bilinear') -> None:
        if limit_type not in LIMIT_TYPES:
            raise ValueError(f'limit_type must be one of {LIMIT_TYPES}, got {limit_type!r}')
        if rounding not in ROUNDINGS:
            raise ValueError(f'rounding must be one of {ROUNDINGS}, got {rounding!r}')
        if int(limit_side_len) <= 0:
            raise ValueError(f'limit_side_len must be > 0, got {limit_side_len}')
        if int(size_divisor) <= 0:
            raise ValueError(f'size_divisor must be > 0, got {size_divisor}')
        divisor = int(size_divisor)
        if max_side is not None and int(max_side) < divisor:
            raise ValueError(f'max_side must be >= size_divisor ({divisor}), got {max_side}')
        if max_pixels is not None and int(max_pixels) < divisor * divisor:
            raise ValueError(f'max_pixels must be >= size_divisor ** 2 ({divisor * divisor}), '
                             f'got {max_pixels}')
        self.limit_side_len = int(limit_side_len)
        self.limit_type = limit_type
        self.size_divisor = divisor
        self.max_pixels = None if max_pixels is None else int(max_pixels)
        self.max_side = None if max_side is None else int(max_side)
        self.rounding = rounding
        self.interpolation = interpolation

    def ratio(self, height: int, width: int) -> float:
        """The rule's scale for an input of ``height x width`` (before any rounding)."""
        limit = self.limit_side_len
        if self.limit_type == 'min':
            short = min(height, width)
            return limit / short if short < limit else 1.0
        long = max(height, width)
        if self.limit_type == 'max':
            return limit / long if long > limit else 1.0
        return limit / long

    def rule_size(self, height: int, width: int) -> Tuple[int, int]:
        """``(width, height)`` by the rule and the divisor, before the cap."""
        ratio = self.ratio(height, width)
        half = 0.5 if self.rounding == 'half_up' else 0.0
        d = self.size_divisor
        new_w, new_h = int(width * ratio + half), int(height * ratio + half)
        return max(int(round(new_w / d)) * d, d), max(int(round(new_h / d)) * d, d)

    def cap(self, width: int, height: int) -> Tuple[int, int]:
        """``(width, height)`` scaled down to fit ``max_pixels`` and ``max_side`` (or as is)."""
        factor = 1.0
        if self.max_pixels is not None and width * height > self.max_pixels:
            factor = math.sqrt(self.max_pixels / (width * height))
        if self.max_side is not None and max(width, height) > self.max_side:
            factor = min(factor, self.max_side / max(width, height))
        if factor == 1.0:
            return width, height
        d = self.size_divisor
        # (the epsilon keeps e.g. 2048.0 computed as 2047.9999 at 2048; the checks below
        # still hold the cap)
        new_w = max(int(width * factor / d + 1e-6) * d, d)
        new_h = max(int(height * factor / d + 1e-6) * d, d)
        if self.max_side is not None:
            new_w, new_h = (min(side, self.max_side // d * d) for side in (new_w, new_h))
        if self.max_pixels is not None and new_w * new_h > self.max_pixels:
            # a side below one divisor was raised to it: take the pixels from the other side
            if new_w >= new_h:
                new_w = max(self.max_pixels // (new_h * d) * d, d)
            else:
                new_h = max(self.max_pixels // (new_w * d) * d, d)
        return new_w, new_h

    def target_size(self, height: int, width: int) -> Tuple[int, int]:
        """Output ``(width, height)`` for an input of ``height x width``: rule, then cap."""
        return self.cap(*self.rule_size(height, width))

    def transform(self, results: dict) -> dict:
        """Resize (possibly by 1.0, which still records ``scale_factor``)."""
        height, width = results['img'].shape[:2]
        rule_w, rule_h = self.rule_size(height, width)
        new_w, new_h = self.cap(rule_w, rule_h)
        if (new_w, new_h) != (rule_w, rule_h):
            source = results.get('img_path') or 'an image array'
            warnings.warn(
                f'{source}: {width}x{height} would enter the network as {rule_w}x{rule_h} '
                f"(limit_type='{self.limit_type}', limit_side_len={self.limit_side_len}); "
                f'scaled to {new_w}x{new_h} to fit the input cap (max_pixels='
                f'{self.max_pixels}, max_side={self.max_side})', InputSizeCapWarning)
        return resize_to(results, new_w, new_h, self.interpolation)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(limit_side_len={self.limit_side_len}, '
                f'limit_type={self.limit_type!r}, size_divisor={self.size_divisor}, '
                f'max_pixels={self.max_pixels}, max_side={self.max_side}, '
                f'rounding={self.rounding!r}, interpolation={self.interpolation!r})')
