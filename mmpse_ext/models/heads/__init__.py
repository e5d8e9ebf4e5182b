from .pse_head import PSEHead

__all__ = ['PSEHead']
