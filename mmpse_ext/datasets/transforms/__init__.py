"""Training and test transforms of the PSENet recipe (registered in the ``mmpse_ext`` scope)."""
from .limit_side_resize import InputSizeCapWarning, LimitSideResize
from .min_short_side_resize import MinShortSideResize
from .pack_pse_inputs import PackPSEInputs
from .pse_targets import PSETargets, paddle_shrink_rates, shrink_distance
from .random_rotate_keep_size import RandomRotateKeepSize
from .random_scale import RandomScale
from .text_aware_random_crop import TextAwareRandomCrop

__all__ = [
    'InputSizeCapWarning', 'LimitSideResize', 'MinShortSideResize', 'PackPSEInputs', 'PSETargets',
    'paddle_shrink_rates', 'shrink_distance', 'RandomRotateKeepSize', 'RandomScale',
    'TextAwareRandomCrop'
]
