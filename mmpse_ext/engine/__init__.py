from .checkpoint_loading import allow_full_checkpoint_loading
from .device_fallbacks import (disable_amp_without_accelerator, init_cpu_distributed,
                               shutdown_distributed)

__all__ = [
    'allow_full_checkpoint_loading', 'disable_amp_without_accelerator', 'init_cpu_distributed',
    'shutdown_distributed'
]
