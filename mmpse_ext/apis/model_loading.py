"""Build a PSENet from its config and load trained weights into it, for inference."""
import os.path as osp
from typing import Union

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint


def load_config(config: Union[str, Config]) -> Config:
    """Read ``config`` (a path or a Config) and enter its default scope.

    Raises:
        FileNotFoundError: ``config`` is a path that does not exist.
    """
    if not isinstance(config, Config):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config {config!r} does not exist')
        config = Config.fromfile(config)
    init_default_scope(config.get('default_scope', 'mmocr'))
    return config


def load_model(cfg: Config, checkpoint: str, device: Union[str, torch.device] = 'cpu'
               ) -> torch.nn.Module:
    """Build ``cfg.model`` and load ``checkpoint`` into it, in eval mode on ``device``.

    Accepts a Runner checkpoint (``{'state_dict': ..., 'meta': ...}``, keys possibly prefixed
    ``module.`` by a distributed wrapper) or a bare state dict such as
    ``tools/model_converters/convert_paddle_weights.py`` writes. BatchNorm's ``num_batches_tracked`` counters may
    be absent (Paddle has none); any other missing or unexpected key is an error, since it means
    the config and the weights disagree.

    Args:
        cfg (Config): full config with a ``model`` field, default scope already entered.
        checkpoint (str): path of the ``.pth`` file.
        device (str | torch.device): where the model goes.

    Raises:
        FileNotFoundError: the checkpoint does not exist.
        RuntimeError: the checkpoint's keys do not match the model's.
    """
    import mmpse_ext  # noqa: F401  (registers our modules even if a config lacks custom_imports)
    from mmocr.registry import MODELS
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} does not exist')
    model = MODELS.build(cfg.model)
    state = _load_checkpoint(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    state = {key[len('module.'):] if key.startswith('module.') else key: value
             for key, value in state.items()}
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith('num_batches_tracked')]
    if missing or result.unexpected_keys:
        raise RuntimeError(
            f'checkpoint {checkpoint} does not match the model of {cfg.filename}: '
            f'{len(missing)} missing keys (first: {missing[:5]}), '
            f'{len(result.unexpected_keys)} unexpected keys '
            f'(first: {result.unexpected_keys[:5]})')
    return model.to(device).eval()
