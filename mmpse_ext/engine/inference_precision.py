"""Reduced-precision inference settings: which autocast dtype a precision name means on a
device, whether the hardware runs it natively, and the channels_last layout that makes the CPU's
oneDNN bfloat16 convolutions fast (docs/deploy.md, "Precision")."""
import logging
import os.path as osp
import warnings
from typing import Optional, Union

import torch
from mmengine.logging import print_log
from torch import nn

#: Precision names accepted by the inference API, ``tools/infer.py`` and ``tools/test.py``.
PRECISIONS = ('fp32', 'bf16', 'fp16')
_DTYPES = dict(fp32=None, bf16=torch.bfloat16, fp16=torch.float16)
# CPU flags (``/proc/cpuinfo``) of native bfloat16 / float16 matrix arithmetic.
_CPU_FLAGS = dict(bf16=('avx512_bf16', 'amx_bf16'), fp16=('avx512_fp16', 'amx_fp16'))
_warned = set()


def _cpu_flags() -> set:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where that file is missing)."""
    if not osp.isfile('/proc/cpuinfo'):
        return set()
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('flags'):
                return set(line.split(':', 1)[1].split())
    return set()


def cpu_has_native(precision: str) -> bool:
    """Whether this CPU does ``'bf16'`` / ``'fp16'`` matrix arithmetic in hardware.

    Asks oneDNN where torch exposes it (``torch.ops.mkldnn._is_mkldnn_bf16_supported``), else
    reads the CPU flags (AVX512-BF16 / AMX-BF16, AVX512-FP16 / AMX-FP16).
    """
    try:  # older torch raises RuntimeError for an unknown op, newer AttributeError
        return bool(getattr(torch.ops.mkldnn, f'_is_mkldnn_{precision}_supported')())
    except (AttributeError, RuntimeError):
        return bool(_cpu_flags() & set(_CPU_FLAGS[precision]))


def cpu_autocast_supports(dtype: torch.dtype) -> bool:
    """Whether this torch autocasts to ``dtype`` on the CPU (torch 2.0 does bfloat16 only)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with torch.autocast('cpu', dtype=dtype):
                output = torch.nn.functional.linear(torch.ones(1, 1), torch.ones(1, 1))
    except RuntimeError:  # torch 2.0: "AutocastCPU only support Bfloat16"
        return False
    return output.dtype == dtype


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        print_log(message, logger='current', level=logging.WARNING)


def autocast_dtype(precision: str, device: Union[str, torch.device]) -> Optional[torch.dtype]:
    """The autocast dtype of ``precision`` on ``device``; ``None`` for ``'fp32'``.

    On the CPU ``'bf16'`` is the fast choice (oneDNN, AVX512-BF16/AMX); it still runs without
    native bfloat16, with one warning that it is slow. ``'fp16'`` runs on the CPU too, with one
    warning: torch's CPU float16 convolutions are several times slower than bfloat16 ones even
    where the CPU has AVX512-FP16 (docs/benchmarks.md). On CUDA ``'fp16'`` always works and
    ``'bf16'`` needs a GPU that has it (Ampere or newer).

    Raises:
        ValueError: an unknown precision, a device other than CPU/CUDA for a reduced one,
            ``'bf16'`` on a GPU without bfloat16, or a dtype this torch cannot autocast to on
            the CPU.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {PRECISIONS}, got {precision!r}')
    dtype = _DTYPES[precision]
    if dtype is None:
        return None
    device = torch.device(device)
    if device.type == 'cpu':
        if not cpu_autocast_supports(dtype):
            raise ValueError(f'precision={precision!r}: torch {torch.__version__} cannot '
                             "autocast to it on the CPU; use precision='bf16'")
        if precision == 'fp16':
            _warn_once("precision='fp16' on the CPU: torch's float16 convolutions are much "
                       "slower there than bfloat16 ones; use precision='bf16' for speed")
        elif not cpu_has_native('bf16'):
            _warn_once("precision='bf16': this CPU has no native bfloat16 arithmetic "
                       '(AVX512-BF16/AMX); it runs, but slower than fp32')
    elif device.type == 'cuda':
        if precision == 'bf16' and not torch.cuda.is_bf16_supported():
            raise ValueError(f"precision='bf16': the GPU {device} has no bfloat16 support; "
                             "use precision='fp16'")
    else:
        raise ValueError(f'precision={precision!r} needs a CPU or CUDA device, got {device}')
    return dtype


def to_channels_last(module: nn.Module) -> nn.Module:
    """Store ``module``'s 4-d weights as channels_last (NHWC), in place; returns it.

    oneDNN's reduced-precision convolutions run in NHWC; with NCHW tensors every convolution
    reorders its input and output. A convolution whose weight is channels_last returns
    channels_last, and bilinear upsampling, additions, pooling and concatenation keep the
    layout, so converting the weights and the input keeps the whole network in NHWC.
    """
    return module.to(memory_format=torch.channels_last)
