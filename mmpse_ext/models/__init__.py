"""PSENet model parts in the ``mmpse_ext`` scope (held by MMOCR's ``PSENet`` detector)."""
from .heads import PSEHead
from .losses import PSELoss
from .necks import PSEFPN
from .postprocessors import PSEPostprocessor

__all__ = ['PSEFPN', 'PSEHead', 'PSELoss', 'PSEPostprocessor']
