"""collect_env: MMOCR's report plus the build of mmpse_ext._C, as the dispatcher and setup.py
recorded it."""
import os.path as osp
import subprocess
import sys

import mmocr
import torch

from mmpse_ext.ops import build_info, extension
from mmpse_ext.utils import collect_env, format_env

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_report_names_versions_and_the_loaded_kernels():
    env = collect_env(with_compiling_details=False)
    assert env['MMOCR'] == mmocr.__version__
    assert env['PyTorch'] == torch.__version__
    for name in ('Python', 'MMCV', 'MMDetection', 'MMEngine', 'mmpse_ext'):
        assert env[name]
    # The dispatcher's own listing of the op's kernels, one 'KEY: registered at ...' line each
    extension.load_extension()
    listing = torch._C._dispatch_dump('pse_ext::progressive_scale_expansion')
    registered = {line.split(':')[0] for line in listing.splitlines() if ': registered at' in line}
    assert 'CPU' in registered, listing
    expected = 'CPU + CUDA' if 'CUDA' in registered else 'CPU only (CUDA tensors are decoded on'
    assert env['mmpse_ext._C kernels'].startswith(expected)
    assert 'PyTorch compiling details' not in env
    assert 'PyTorch compiling details' in collect_env()


def test_build_record_matches_the_loaded_extension():
    """setup.py's record agrees with the dispatcher (CUDA kernels registered iff recorded) and
    names the torch the extension was built against (the one loaded, after a fresh build)."""
    info = build_info._read_build_info()
    assert info, 'mmpse_ext/ops/_build_info.py is missing: rebuild with pip install -e .'
    assert info['cuda_kernels'] == extension.has_kernel('progressive_scale_expansion', 'cuda')
    report = build_info.extension_build_report()
    assert report['mmpse_ext._C built against'].startswith(f"torch {info['torch_version']},")
    assert info['reason'] in report['mmpse_ext._C build decision']
    assert ('mmpse_ext._C WARNING' in report) == (info['torch_version'] != torch.__version__)


def test_cuda_arch_flags_are_named_like_nvcc_targets():
    flags = [
        '-gencode=arch=compute_80,code=sm_80', '-gencode=arch=compute_90,code=compute_90',
        '-gencode=arch=compute_90a,code=[sm_90a,compute_90a]'
    ]
    assert build_info.cuda_archs(flags) == [
        'sm_80', 'compute_90 (PTX)', 'sm_90a', 'compute_90a (PTX)'
    ]


def test_format_is_one_line_per_entry():
    text = format_env({'A': '1', 'B': 'two'})
    assert text.splitlines()[1:3] == ['A: 1', 'B: two']


def test_runs_as_a_script():
    result = subprocess.run([sys.executable, 'tools/analysis_tools/collect_env.py'],
                            cwd=REPO,
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f'MMOCR: {mmocr.__version__}' in result.stdout
    assert 'mmpse_ext._C kernels: ' in result.stdout
    assert 'mmpse_ext._C built against: torch ' in result.stdout
