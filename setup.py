"""Build and install mmpse_ext with its C++/CUDA extension ``mmpse_ext._C``.

The CUDA kernels are compiled whenever torch has CUDA, a GPU is visible and nvcc is found
(``$CUDA_HOME/bin/nvcc``, else ``nvcc`` on ``PATH``), or when ``FORCE_CUDA=1`` (e.g. on a build
machine without a GPU); otherwise a CPU-only extension is built, and CUDA tensors are decoded on
the host. The decision and its reason are printed, and recorded with the versions the extension
is built against in the generated module ``mmpse_ext/ops/_build_info.py`` (read by
``python tools/analysis_tools/collect_env.py``). torch's BuildExtension picks the C++ standard and honours
``MAX_JOBS`` and ``TORCH_CUDA_ARCH_LIST``; ``DEBUG=1`` builds without optimisation and with
symbols.
"""
import glob
import os
import pprint
import shutil
import subprocess

from setuptools import find_packages, setup

ROOT = os.path.dirname(os.path.abspath(__file__))
BUILD_INFO_PATH = os.path.join(ROOT, 'mmpse_ext', 'ops', '_build_info.py')


def read_version() -> str:
    namespace = {}
    with open(os.path.join(ROOT, 'mmpse_ext', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def find_nvcc(cuda_home):
    """Path of nvcc: ``<cuda_home>/bin/nvcc`` if it exists, else the first ``nvcc`` on PATH."""
    if cuda_home:
        candidate = os.path.join(cuda_home, 'bin', 'nvcc')
        if os.path.isfile(candidate):
            return candidate
    return shutil.which('nvcc')


def nvcc_release(nvcc):
    """The ``release X.Y, VX.Y.Z`` line of ``nvcc --version``, or None if it does not run."""
    try:
        output = subprocess.run([nvcc, '--version'], capture_output=True, text=True,
                                timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    lines = [line for line in output.splitlines() if 'release' in line]
    return lines[-1].split('release', 1)[1].strip() if lines else None


def decide_cuda(torch, nvcc, force_cuda: bool):
    """Whether to compile the CUDA kernels, and why (one sentence)."""
    if force_cuda:
        return True, 'FORCE_CUDA=1'
    if torch.version.cuda is None:
        return False, f'torch {torch.__version__} has no CUDA'
    if not torch.cuda.is_available():
        return False, 'no GPU is visible (set FORCE_CUDA=1 to compile the CUDA kernels anyway)'
    if nvcc is None:
        return False, ('a GPU is visible but nvcc was found neither in $CUDA_HOME/bin nor on '
                       'PATH: install the CUDA toolkit matching torch\'s CUDA '
                       f'{torch.version.cuda} and set CUDA_HOME; until then CUDA tensors are '
                       'decoded on the host')
    return True, f'a GPU is visible and nvcc is at {nvcc}'


def cuda_arch_flags():
    """The ``-gencode`` flags torch will pass to nvcc (from TORCH_CUDA_ARCH_LIST or the GPUs)."""
    try:
        from torch.utils.cpp_extension import _get_cuda_arch_flags
        return list(_get_cuda_arch_flags())
    except Exception as error:  # a private helper: record why, never fail the build on it
        return [f'unknown ({error})']


def write_build_info(info: dict) -> None:
    with open(BUILD_INFO_PATH, 'w') as f:
        f.write('"""How mmpse_ext._C was built; written by setup.py (not tracked by git)."""\n')
        f.write(f'BUILD_INFO = {pprint.pformat(info, sort_dicts=False)}\n')


def get_extensions():
    import torch
    from torch.utils.cpp_extension import CUDA_HOME, CppExtension, CUDAExtension

    csrc = 'csrc'
    sources = sorted(glob.glob(os.path.join(csrc, '*.cpp')) +
                     glob.glob(os.path.join(csrc, 'cpu', '*.cpp')))
    cuda_sources = sorted(glob.glob(os.path.join(csrc, 'cuda', '*.cu')))
    debug = os.getenv('DEBUG', '0') == '1'
    force_cuda = os.getenv('FORCE_CUDA', '0') == '1'
    nvcc = find_nvcc(CUDA_HOME)
    use_cuda, reason = decide_cuda(torch, nvcc, force_cuda)
    use_cuda = use_cuda and bool(cuda_sources)

    # -g0 overrides the -g of Python's CFLAGS: debug information triples the compile time.
    extra_compile_args = {'cxx': ['-O0', '-g'] if debug else ['-O3', '-g0']}
    extension = CppExtension
    arch_flags = []
    if use_cuda:
        extension = CUDAExtension
        sources += cuda_sources
        extra_compile_args['nvcc'] = ['-O0', '-g'] if debug else ['-O3']
        arch_flags = cuda_arch_flags()
    write_build_info({
        'cuda_kernels': use_cuda,
        'reason': reason,
        'torch_version': torch.__version__,
        'torch_cuda_version': torch.version.cuda,
        'cuda_home': CUDA_HOME,
        'nvcc': nvcc,
        'nvcc_release': nvcc_release(nvcc) if (use_cuda and nvcc) else None,
        'torch_cuda_arch_list': os.getenv('TORCH_CUDA_ARCH_LIST'),
        'cuda_arch_flags': arch_flags,
        'debug': debug,
    })
    print(f'[mmpse_ext setup] building mmpse_ext._C with '
          f'{"CUDA kernels" if use_cuda else "CPU kernels only"}: {reason} '
          f'(torch {torch.__version__}, CUDA_HOME={CUDA_HOME}, DEBUG={int(debug)}, '
          f'MAX_JOBS={os.getenv("MAX_JOBS", "default")}, '
          f'TORCH_CUDA_ARCH_LIST={os.getenv("TORCH_CUDA_ARCH_LIST", "default")}'
          + (f', {" ".join(arch_flags)}' if arch_flags else '') + ')')
    return [
        extension(
            'mmpse_ext._C',
            sources=sources,
            include_dirs=[os.path.abspath(csrc)],
            extra_compile_args=extra_compile_args,
        )
    ]


if __name__ == '__main__':
    from torch.utils.cpp_extension import BuildExtension

    setup(
        name='mmpse_ext',
        version=read_version(),
        description='PSENet (progressive scale expansion) for the MMOCR ecosystem',
        packages=find_packages(include=['mmpse_ext', 'mmpse_ext.*']),
        python_requires='>=3.9',
        install_requires=[
            'torch', 'mmcv>=2.0.0,<2.1.0', 'mmengine>=0.10,<1.0', 'mmdet>=3.0.0,<3.2.0',
            'mmocr==1.0.1', 'pyclipper', 'shapely', 'opencv-python', 'numpy<2'
        ],
        ext_modules=get_extensions(),
        cmdclass={'build_ext': BuildExtension.with_options(use_ninja=True)},
        zip_safe=False,
    )
