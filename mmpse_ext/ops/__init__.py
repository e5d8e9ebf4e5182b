from .pse import PSEResult, progressive_scale_expansion, progressive_scale_expansion_from_logits

__all__ = ['PSEResult', 'progressive_scale_expansion', 'progressive_scale_expansion_from_logits']
