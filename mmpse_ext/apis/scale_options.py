"""The test-time scale options of a config (its ``LimitSideResize`` step), read and overridden
for :class:`~mmpse_ext.apis.PSEDetector` and ``tools/infer.py``."""
import copy
from typing import Optional

from mmengine.config import Config

from ..datasets.transforms.limit_side_resize import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE
from .model_loading import ConfigError

RESIZE_TYPE = 'LimitSideResize'


def find_test_resize(cfg: Config) -> Optional[dict]:
    """The ``LimitSideResize`` step of the config's test pipeline (the dict itself), or None."""
    for step in cfg.get('test_dataloader', {}).get('dataset', {}).get('pipeline', []):
        if step['type'].split('.')[-1] == RESIZE_TYPE:
            return step
    return None


def with_test_scale(cfg: Config,
                    limit_side_len: Optional[int] = None,
                    limit_type: Optional[str] = None) -> Config:
    """A copy of ``cfg`` whose test resize uses the given scale rule (``cfg`` if none given).

    Args:
        cfg (Config): the model's config.
        limit_side_len (int, optional): ``LimitSideResize.limit_side_len``.
        limit_type (str, optional): ``'min'``, ``'max'`` or ``'resize_long'``.

    Raises:
        ConfigError: an option is given but the test pipeline has no ``LimitSideResize``.
    """
    options = {
        key: value
        for key, value in dict(limit_side_len=limit_side_len, limit_type=limit_type).items()
        if value is not None
    }
    if not options:
        return cfg
    cfg = copy.deepcopy(cfg)
    step = find_test_resize(cfg)
    if step is None:
        raise ConfigError(f'{cfg.filename}: {", ".join(options)} set, but the test pipeline has '
                          f'no mmpse_ext.{RESIZE_TYPE} step to apply them to')
    step.update(options)
    return cfg


def network_input_cap(cfg: Config) -> dict:
    """``dict(max_pixels=..., max_side=...)`` of the config's test resize (``None`` = no cap)."""
    step = find_test_resize(cfg)
    if step is None:
        return dict(max_pixels=None, max_side=None)
    return dict(
        max_pixels=step.get('max_pixels', DEFAULT_MAX_PIXELS),
        max_side=step.get('max_side', DEFAULT_MAX_SIDE))
