"""Build and install mmpse_ext with its C++/CUDA extension ``mmpse_ext._C``.

CUDA kernels are compiled when a GPU is visible and CUDA_HOME is set, or when FORCE_CUDA=1;
otherwise a CPU-only extension is built. torch's BuildExtension picks the C++ standard and honours
MAX_JOBS and TORCH_CUDA_ARCH_LIST; DEBUG=1 builds without optimisation and with symbols.
"""
import glob
import os

from setuptools import find_packages, setup

ROOT = os.path.dirname(os.path.abspath(__file__))


def read_version() -> str:
    namespace = {}
    with open(os.path.join(ROOT, 'mmpse_ext', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def get_extensions():
    import torch
    from torch.utils.cpp_extension import CUDA_HOME, CppExtension, CUDAExtension

    csrc = os.path.join('csrc')
    sources = sorted(glob.glob(os.path.join(csrc, '*.cpp')) +
                     glob.glob(os.path.join(csrc, 'cpu', '*.cpp')))
    cuda_sources = sorted(glob.glob(os.path.join(csrc, 'cuda', '*.cu')))
    debug = os.getenv('DEBUG', '0') == '1'
    force_cuda = os.getenv('FORCE_CUDA', '0') == '1'
    use_cuda = bool(cuda_sources) and (
        (torch.cuda.is_available() and CUDA_HOME is not None) or force_cuda)

    extra_compile_args = {'cxx': ['-O0', '-g'] if debug else ['-O3']}
    define_macros = []
    extension = CppExtension
    if use_cuda:
        extension = CUDAExtension
        sources += cuda_sources
        define_macros.append(('WITH_CUDA', None))
        extra_compile_args['nvcc'] = ['-O0', '-g'] if debug else ['-O3']
    print(f'[mmpse_ext setup] building mmpse_ext._C with {"CUDA" if use_cuda else "CPU only"} '
          f'(torch {torch.__version__}, cuda available={torch.cuda.is_available()}, '
          f'CUDA_HOME={CUDA_HOME}, FORCE_CUDA={int(force_cuda)}, DEBUG={int(debug)}, '
          f'MAX_JOBS={os.getenv("MAX_JOBS", "default")}, '
          f'TORCH_CUDA_ARCH_LIST={os.getenv("TORCH_CUDA_ARCH_LIST", "default")})')
    return [
        extension(
            'mmpse_ext._C',
            sources=sources,
            include_dirs=[os.path.abspath(csrc)],
            define_macros=define_macros,
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
