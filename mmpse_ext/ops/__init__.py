from .pse import (PSEResult, pack_kernel_masks, progressive_scale_expansion,
                  progressive_scale_expansion_from_logits, progressive_scale_expansion_packed)

__all__ = [
    'PSEResult', 'pack_kernel_masks', 'progressive_scale_expansion',
    'progressive_scale_expansion_from_logits', 'progressive_scale_expansion_packed'
]
