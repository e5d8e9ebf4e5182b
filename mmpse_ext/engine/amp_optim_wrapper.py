"""Mixed-precision training with dynamic loss scaling on any torch device, the CPU included.

mmengine 0.10.7's ``AmpOptimWrapper`` asserts that CUDA, NPU, MLU or MUSA is available, uses the
CUDA-only ``GradScaler`` import, and its ``autocast`` helper accepts only bfloat16 on the CPU.
torch itself runs autocast (float16 and bfloat16) and ``torch.amp.GradScaler`` on the CPU too, so
this wrapper keeps mmengine's interface, arguments and checkpoint layout (``loss_scaler`` in the
optimizer state) and takes the device from mmengine's ``get_device()``. The recipe's settings
(``loss_scale=dict(init_scale=1024.0)``: dynamic scaling from 1024) then execute the same way on
a GPU and in CPU CI: a step whose gradients overflow is skipped and the scale halves; after
``growth_interval`` clean steps it doubles.

The autocast dtype defaults to float16 on accelerators, as the recipe trains on GPUs, and to
bfloat16 on the CPU: CPUs without AVX512-FP16 run float16 convolutions through slow reference
kernels, far slower than float32, while bfloat16 is at least as fast there (docs/benchmarks.md
has the measurement); float16 would make a CPU run of the recipe impractical. The loss scaling
runs the
same way with either dtype (scale, unscale, skip the step and back off on inf/NaN gradients,
grow after ``growth_interval`` clean steps); only float16's narrow range (max 65504) makes real
overflows likely, so the tests that force one use ``dtype='float16'``.

torch before 2.3 has no device-generic ``torch.amp.GradScaler``: there CUDA uses
``torch.cuda.amp.GradScaler`` (the same dynamic scaling), and the CPU has no loss scaler at all.
CPU autocast in bfloat16 (the CPU default) then runs without loss scaling, which bfloat16, with
float32's exponent range, does not need; a warning says so once. float16 on such a CPU is refused
with a clear error (it would need the scaler; torch 2.0's CPU autocast does not run it either).
"""
import logging
from contextlib import contextmanager
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from mmpse_ext.registry import OPTIM_WRAPPERS

# Autocast dtype when none is given: the recipe's float16, except where only bfloat16 is fast.
DEFAULT_DTYPES = {'cpu': 'bfloat16'}
_WARNED_NO_CPU_SCALER = []


def has_device_generic_grad_scaler() -> bool:
    """Whether this torch has ``torch.amp.GradScaler`` (torch >= 2.3), which scales on the CPU."""
    return getattr(torch.amp, 'GradScaler', None) is not None


@OPTIM_WRAPPERS.register_module()
class DeviceAgnosticAmpOptimWrapper(AmpOptimWrapper):
    """mmengine's ``AmpOptimWrapper`` on the device mmengine trains on, CPU included.

    Args:
        loss_scale (str | float | dict): ``'dynamic'`` (GradScaler defaults, initial scale
            65536), a float (a *static* scale, re-applied every step) or a dict of GradScaler
            arguments (``dict(init_scale=1024.0)`` = dynamic scaling from 1024), as in mmengine.
        dtype (str | torch.dtype, optional): autocast dtype, ``'float16'`` or ``'bfloat16'``
            (``'float32'``/``'float64'`` are accepted as in mmengine); default
            :data:`DEFAULT_DTYPES` of the device (float16, bfloat16 on the CPU).
        use_fsdp (bool): use torch's ``ShardedGradScaler`` (FSDP training).
        device (str, optional): device type to autocast and scale on; default mmengine's
            ``get_device()`` ('cuda', 'npu', 'mlu', 'musa' or 'cpu').
        **kwargs: passed to mmengine's ``OptimWrapper`` (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).
    """

    def __init__(self,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 dtype: Optional[Union[str, torch.dtype]] = None,
                 use_fsdp: bool = False,
                 device: Optional[str] = None,
                 **kwargs) -> None:
        # mmengine's __init__ would assert an accelerator; its other steps are repeated here.
        OptimWrapper.__init__(self, **kwargs)
        self.device_type = device or get_device()
        self._scale_update_param = None
        if dtype is None:
            dtype = DEFAULT_DTYPES.get(self.device_type, 'float16')
        scaler_type = self._scaler_type(use_fsdp, self.device_type, dtype)
        if loss_scale == 'dynamic':
            self.loss_scaler = scaler_type(self.device_type)
        elif isinstance(loss_scale, float):
            self._scale_update_param = loss_scale
            self.loss_scaler = scaler_type(self.device_type, init_scale=loss_scale)
        elif isinstance(loss_scale, dict):
            self.loss_scaler = scaler_type(self.device_type, **loss_scale)
        else:
            raise TypeError("DeviceAgnosticAmpOptimWrapper: loss_scale must be 'dynamic', a "
                            f'float or a dict of GradScaler arguments, got {loss_scale!r}')
        if isinstance(dtype, str):
            if dtype not in self.valid_dtypes:
                raise ValueError(f'DeviceAgnosticAmpOptimWrapper: dtype must be one of '
                                 f'{self.valid_dtypes}, got {dtype!r}')
            dtype = getattr(torch, dtype)
        if dtype is not None and not isinstance(dtype, torch.dtype):
            raise TypeError(f'DeviceAgnosticAmpOptimWrapper: dtype must be a str or a '
                            f'torch.dtype, got {dtype!r}')
        self.cast_dtype = dtype

    @staticmethod
    def _scaler_type(use_fsdp: bool, device_type: str, dtype: Union[str, torch.dtype]):
        """A callable ``(device, **scaler_kwargs) -> scaler`` for this torch and device."""
        if not use_fsdp and has_device_generic_grad_scaler():
            return torch.amp.GradScaler
        if not use_fsdp and device_type == 'cuda':
            return lambda device, **kwargs: torch.cuda.amp.GradScaler(**kwargs)
        if not use_fsdp and device_type == 'cpu':
            if str(dtype).replace('torch.', '') == 'float16':
                raise ValueError(
                    f'DeviceAgnosticAmpOptimWrapper: torch {torch.__version__} has no CPU loss '
                    "scaler (torch.amp.GradScaler, torch >= 2.3), which float16 needs: use "
                    "dtype='bfloat16' (the CPU default) or a newer torch")
            if not _WARNED_NO_CPU_SCALER:
                _WARNED_NO_CPU_SCALER.append(True)
                print_log(
                    f'DeviceAgnosticAmpOptimWrapper: torch {torch.__version__} has no CPU loss '
                    f'scaler (torch.amp.GradScaler, torch >= 2.3): CPU autocast in {dtype} runs '
                    'without loss scaling (bfloat16 has float32\'s range and needs none)',
                    logger='current',
                    level=logging.WARNING)
            # A disabled scaler passes the loss and the step through and keeps no state.
            return lambda device, **kwargs: torch.cuda.amp.GradScaler(enabled=False)
        if not use_fsdp:
            raise RuntimeError(
                f'DeviceAgnosticAmpOptimWrapper: torch {torch.__version__} has no loss scaler for '
                f'{device_type!r} (torch.amp.GradScaler needs torch >= 2.3); use mmengine\'s '
                'AmpOptimWrapper there')
        from torch.distributed.fsdp.sharded_grad_scaler import ShardedGradScaler

        return lambda device, **kwargs: ShardedGradScaler(device=device, **kwargs)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of ``OptimWrapper``, plus ``torch.autocast`` on the
        wrapper's device (weight cache off, as in mmengine)."""
        with OptimWrapper.optim_context(self, model), torch.autocast(
                device_type=self.device_type, dtype=self.cast_dtype, cache_enabled=False):
            yield
