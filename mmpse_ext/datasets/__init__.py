"""ICDAR2015 data: annotation readers, the PSENet transforms and the synthetic set generator."""
from . import transforms  # noqa: F401  (registers the transforms)
from .icdar2015_dataset import ICDAR2015Dataset
from .parsers import BadAnnotationWarning
from .synthetic import make_synthetic_icdar2015

__all__ = ['BadAnnotationWarning', 'ICDAR2015Dataset', 'make_synthetic_icdar2015']
