"""How the loaded ``mmpse_ext._C`` was built, and which device kernels it registered.

``setup.py`` records its decision and the versions it built against in the generated module
``mmpse_ext/ops/_build_info.py``; the registered kernels are read from torch's dispatcher, which
is the ground truth for what will run.
"""
from typing import Dict, List

import torch

from . import extension

EXPANSION_OP = 'progressive_scale_expansion'


def _read_build_info() -> dict:
    try:
        from ._build_info import BUILD_INFO
    except ImportError:
        return {}
    return BUILD_INFO


def cuda_archs(arch_flags: List[str]) -> List[str]:
    """``-gencode=arch=compute_90,code=sm_90`` → ``sm_90``; ``code=compute_90`` → ``compute_90
    (PTX)``."""
    archs = []
    for flag in arch_flags:
        code = flag.split('code=')[-1].strip('[]"\'')
        for target in code.split(','):
            archs.append(f'{target} (PTX)' if target.startswith('compute_') else target)
    return archs


def extension_build_report() -> Dict[str, str]:
    """Lines about our extension for a ``collect_env``-style report (name → value)."""
    if not extension.extension_available():
        return {'mmpse_ext._C': f'not built: run `{extension.BUILD_COMMAND}`'}
    report = {
        'mmpse_ext._C kernels':
        'CPU + CUDA' if extension.has_kernel(EXPANSION_OP, 'cuda') else
        'CPU only (CUDA tensors are decoded on the host)',
    }
    info = _read_build_info()
    if not info:
        report['mmpse_ext._C build'] = ('unknown (no mmpse_ext/ops/_build_info.py: built by an '
                                        'older setup.py)')
        return report
    built_cuda = info.get('torch_cuda_version') or 'none'
    report['mmpse_ext._C built against'] = (f"torch {info.get('torch_version')}, CUDA "
                                            f'{built_cuda}')
    report['mmpse_ext._C build decision'] = (
        f"{'CUDA kernels' if info.get('cuda_kernels') else 'CPU kernels only'}: "
        f"{info.get('reason')}")
    if info.get('cuda_kernels'):
        report['mmpse_ext._C nvcc'] = f"{info.get('nvcc')} ({info.get('nvcc_release')})"
        report['mmpse_ext._C CUDA archs'] = (', '.join(cuda_archs(info.get('cuda_arch_flags', [])))
                                             or 'none recorded')
    if info.get('torch_version') != torch.__version__:
        report['mmpse_ext._C WARNING'] = (
            f"built against torch {info.get('torch_version')} but torch {torch.__version__} is "
            f'loaded: rebuild with `{extension.BUILD_COMMAND}`')
    return report
