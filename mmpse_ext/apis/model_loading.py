"""Build a PSENet from its config and load trained weights into it, for inference."""
import ast
import os.path as osp
from typing import Union

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from .checkpoint_reading import error_summary, read_checkpoint


class ConfigError(ValueError):
    """A config that cannot be used; the message is one line naming the file and the reason."""


def read_config_file(path: str) -> Config:
    """``Config.fromfile`` with one-line errors.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ConfigError: it is not valid Python, or executing it (its ``_base_`` files, imports)
            fails; the message names the file and the first line of the cause.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config {path!r} does not exist')
    if path.endswith('.py'):
        try:
            with open(path, encoding='utf-8') as f:
                ast.parse(f.read(), filename=path)
        except SyntaxError as error:
            raise ConfigError(f'config {path!r} is not valid Python: {error.msg} '
                              f'(line {error.lineno})') from None
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f'config {path!r} cannot be read: {error_summary(error)}') from None
    try:
        return Config.fromfile(path)
    except Exception as error:  # a user's file: any error in it is reported, in one line
        raise ConfigError(f'config {path!r} cannot be loaded: {error_summary(error)}') from None


def load_config(config: Union[str, Config]) -> Config:
    """Read ``config`` (a path or a Config), check it has a model, enter its default scope.

    Raises:
        FileNotFoundError: ``config`` is a path that does not exist.
        ConfigError: the file cannot be loaded (:func:`read_config_file`) or has no ``model``
            with a ``type``.
    """
    if not isinstance(config, Config):
        config = read_config_file(config)
    require_model(config)
    init_default_scope(config.get('default_scope', 'mmocr'))
    return config


def require_model(cfg: Config) -> None:
    """Raise :class:`ConfigError` unless ``cfg`` has a ``model = dict(type=...)``."""
    model = cfg.get('model', None)
    if not isinstance(model, dict) or 'type' not in model:
        raise ConfigError(f'config {cfg.filename!r} has no model (a `model = dict(type=...)` '
                          'entry)')


def build_model(cfg: Config) -> torch.nn.Module:
    """``MODELS.build(cfg.model)``, with a one-line :class:`ConfigError` if that fails."""
    from mmocr.registry import MODELS

    import mmpse_ext  # noqa: F401  (registers our modules even if a config lacks custom_imports)
    try:
        return MODELS.build(cfg.model)
    except Exception as error:  # registry and constructor errors of a user's config
        raise ConfigError(f'config {cfg.filename!r}: its model cannot be built: '
                          f'{error_summary(error)}') from None


def load_model(cfg: Config,
               checkpoint: str,
               device: Union[str, torch.device] = 'cpu') -> torch.nn.Module:
    """Build ``cfg.model`` and load ``checkpoint`` into it, in eval mode on ``device``.

    Accepts a Runner checkpoint (``{'state_dict': ..., 'meta': ...}``, keys possibly prefixed
    ``module.`` by a distributed wrapper) or a bare state dict such as
    ``tools/model_converters/convert_paddle_weights.py`` writes. BatchNorm's
    ``num_batches_tracked`` counters may
    be absent (Paddle has none); any other missing or unexpected key is an error, since it means
    the config and the weights disagree.

    The file is read by :func:`read_checkpoint` (torch's safe loader; a refused file is never
    retried unsafely).

    Args:
        cfg (Config): full config with a ``model`` field, default scope already entered.
        checkpoint (str): path of the ``.pth`` file.
        device (str | torch.device): where the model goes.

    Raises:
        FileNotFoundError: the checkpoint does not exist.
        CheckpointError: the file is not a usable checkpoint (one-line reason).
        ConfigError: the model of ``cfg`` cannot be built.
        RuntimeError: the checkpoint's keys do not match the model's.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} does not exist')
    model = build_model(cfg)
    state = read_checkpoint(checkpoint)
    state = {
        key[len('module.'):] if key.startswith('module.') else key: value
        for key, value in state.items()
    }
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shapes differ: one line per parameter, keep the first
        mismatches = [line.strip() for line in str(error).splitlines() if 'mismatch' in line]
        raise RuntimeError(f'checkpoint {checkpoint} does not match the model of {cfg.filename}: '
                           f'{len(mismatches)} parameters differ in shape (first: '
                           f'{mismatches[0] if mismatches else error_summary(error)})') from None
    missing = [k for k in result.missing_keys if not k.endswith('num_batches_tracked')]
    if missing or result.unexpected_keys:
        raise RuntimeError(f'checkpoint {checkpoint} does not match the model of {cfg.filename}: '
                           f'{len(missing)} missing keys (first: {missing[:5]}), '
                           f'{len(result.unexpected_keys)} unexpected keys '
                           f'(first: {result.unexpected_keys[:5]})')
    return model.to(device).eval()
