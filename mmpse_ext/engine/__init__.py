from .device_fallbacks import disable_amp_without_accelerator, init_cpu_distributed

__all__ = ['disable_amp_without_accelerator', 'init_cpu_distributed']
