"""Runtime pieces for mmengine's Runner: safe checkpoint loading, AMP on any device, CPU runs,
reduced-precision inference."""
from .amp_optim_wrapper import DeviceAgnosticAmpOptimWrapper
from .checkpoint_safe_globals import (allow_mmengine_checkpoint_globals, history_buffer_statistic,
                                      mmengine_checkpoint_globals)
from .conv_bn_folding import fold_batch_norms, fold_batch_norms_in_place
from .cpu_capable_ddp import CPUCapableDDP
from .device_fallbacks import init_cpu_distributed, run_amp_on_any_device, shutdown_distributed
from .float32_convs import (DEFAULT_KEEP_FLOAT, KEEP_FLOAT_CHOICES, Float32Conv, keep_convs_float32,
                            reduced_precision_convs)
from .inference_precision import PRECISIONS, autocast_dtype, cpu_has_native, to_channels_last
from .precision_test_loop import PrecisionTestLoop

__all__ = [
    'CPUCapableDDP', 'DEFAULT_KEEP_FLOAT', 'DeviceAgnosticAmpOptimWrapper', 'Float32Conv',
    'KEEP_FLOAT_CHOICES', 'PRECISIONS', 'PrecisionTestLoop', 'keep_convs_float32',
    'reduced_precision_convs', 'allow_mmengine_checkpoint_globals', 'autocast_dtype',
    'cpu_has_native', 'fold_batch_norms', 'fold_batch_norms_in_place', 'history_buffer_statistic',
    'init_cpu_distributed', 'mmengine_checkpoint_globals', 'run_amp_on_any_device',
    'shutdown_distributed', 'to_channels_last'
]
