"""ICDAR2015 data: annotation readers, the PSENet transforms and the synthetic set generator."""
from .icdar2015_dataset import ICDAR2015Dataset
from .parsers import BadAnnotationWarning
from .synthetic import make_synthetic_icdar2015
from .transforms import (InputSizeCapWarning, LimitSideResize, MinShortSideResize, PackPSEInputs,
                         PSETargets, RandomRotateKeepSize, RandomScale, TextAwareRandomCrop)

__all__ = [
    'BadAnnotationWarning', 'ICDAR2015Dataset', 'InputSizeCapWarning', 'LimitSideResize',
    'MinShortSideResize', 'PackPSEInputs',
    'PSETargets', 'RandomRotateKeepSize', 'RandomScale', 'TextAwareRandomCrop',
    'make_synthetic_icdar2015'
]
