from .pse import PSEResult, progressive_scale_expansion

__all__ = ['PSEResult', 'progressive_scale_expansion']
