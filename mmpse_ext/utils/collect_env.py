"""The environment report of MMOCR's ``collect_env``, plus how our extension was built.

MMOCR's ``mmocr.utils.collect_env`` lists the platform, Python, CUDA, GPUs, compilers, PyTorch,
TorchVision, OpenCV, MMEngine and MMCV; this adds MMDetection, MMOCR, mmpse_ext and the build of
``mmpse_ext._C`` (CPU or CUDA kernels, the torch and CUDA it was built against, the CUDA
architectures), so a bug report or a training log says which decode path can run.
"""
from collections import OrderedDict
from typing import Dict

import mmcv
import mmdet
import mmocr
from mmcv.utils import collect_env as collect_mmcv_env

import mmpse_ext
from mmpse_ext.ops.build_info import extension_build_report

# Long entry of the base report that the mmengine Runner logs itself at start.
COMPILING_DETAILS = 'PyTorch compiling details'


def collect_env(with_compiling_details: bool = True) -> Dict[str, str]:
    """Collect the environment as an ordered name → value mapping.

    Args:
        with_compiling_details (bool): include torch's multi-line build configuration.

    Returns:
        dict: the report's entries, in print order.
    """
    env = OrderedDict(collect_mmcv_env())
    if not with_compiling_details:
        env.pop(COMPILING_DETAILS, None)
    env['MMCV'] = mmcv.__version__
    env['MMDetection'] = mmdet.__version__
    env['MMOCR'] = mmocr.__version__
    env['mmpse_ext'] = mmpse_ext.__version__
    env.update(extension_build_report())
    return env


def format_env(env: Dict[str, str]) -> str:
    """One ``name: value`` line per entry, between dashed rules (the Runner's log style)."""
    rule = '-' * 60
    return '\n'.join([rule, *(f'{name}: {value}' for name, value in env.items()), rule])
