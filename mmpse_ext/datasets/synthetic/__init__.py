"""Synthetic ICDAR2015-format scenes: DejaVu words on textured backgrounds."""
from .generator import make_synthetic_icdar2015
from .scene import SceneConfig, TextRegion, make_scene

__all__ = ['SceneConfig', 'TextRegion', 'make_scene', 'make_synthetic_icdar2015']
