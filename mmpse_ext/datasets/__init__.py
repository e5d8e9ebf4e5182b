"""Text detection data (ICDAR2015, CTW1500, Total-Text): readers, transforms, synthetic sets."""
from .icdar2015_dataset import ICDAR2015Dataset
from .parsers import BadAnnotationWarning
from .synthetic import make_synthetic_curved, make_synthetic_icdar2015
from .text_det_dataset import TextDetDataset
from .transforms import (InputSizeCapWarning, LimitSideResize, MinShortSideResize, PackPSEInputs,
                         PSETargets, RandomRotateKeepSize, RandomScale, TextAwareRandomCrop)

__all__ = [
    'BadAnnotationWarning', 'ICDAR2015Dataset', 'InputSizeCapWarning', 'LimitSideResize',
    'MinShortSideResize', 'PackPSEInputs', 'PSETargets', 'RandomRotateKeepSize', 'RandomScale',
    'TextAwareRandomCrop', 'TextDetDataset', 'make_synthetic_curved', 'make_synthetic_icdar2015'
]
