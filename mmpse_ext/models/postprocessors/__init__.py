from .pse_postprocessor import PSEPostprocessor
from .upsampled_sign import upsampled_positive_mask

__all__ = ['PSEPostprocessor', 'upsampled_positive_mask']
