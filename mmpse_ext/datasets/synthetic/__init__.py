"""Synthetic scenes: DejaVu words on textured backgrounds, in the ICDAR2015 formats and in the
CTW1500 / Total-Text layouts (curved set)."""
from .curved_generator import make_synthetic_curved
from .generator import make_synthetic_icdar2015
from .scene import SceneConfig, TextRegion, make_scene

__all__ = [
    'SceneConfig', 'TextRegion', 'make_scene', 'make_synthetic_curved', 'make_synthetic_icdar2015'
]
