"""Skip marks for tests of torch features the supported range does not all have (torch 2.0 ..
2.14; docs/setup.md lists what each older torch lacks). A test that needs one is skipped, with
the reason shown, where the installed torch lacks it, never run to pass without the feature.
"""
import warnings

import pytest
import torch

from mmpse_ext.engine.amp_optim_wrapper import has_device_generic_grad_scaler
from mmpse_ext.ops.pse import FAKE_KERNELS_REGISTERED

needs_fake_kernels = pytest.mark.skipif(
    not FAKE_KERNELS_REGISTERED,
    reason=f'torch {torch.__version__} has neither torch.library.register_fake nor impl_abstract: '
    'the pse_ext ops have no fake kernels, so meta tensors, torch.compile and torch.export '
    'cannot trace them')

needs_opcheck = pytest.mark.skipif(
    getattr(torch.library, 'opcheck', None) is None,
    reason=f'torch {torch.__version__} has no torch.library.opcheck (torch >= 2.4)')

needs_cpu_grad_scaler = pytest.mark.skipif(
    not has_device_generic_grad_scaler(),
    reason=f'torch {torch.__version__} has no CPU loss scaler (torch.amp.GradScaler, torch >= 2.3)')


def cpu_autocast_supports(dtype: torch.dtype) -> bool:
    """Whether CPU autocast runs in ``dtype`` (torch 2.0 takes bfloat16 only)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # torch 2.0 warns and disables autocast
            with torch.autocast(device_type='cpu', dtype=dtype):
                return torch.ones(2, 2).mm(torch.ones(2, 2)).dtype == dtype
    except RuntimeError:
        return False


def needs_cpu_autocast(dtype: torch.dtype):
    """Skip unless CPU autocast runs in ``dtype``."""
    return pytest.mark.skipif(
        not cpu_autocast_supports(dtype),
        reason=f'torch {torch.__version__} has no CPU autocast in {dtype} (bfloat16 only)')
