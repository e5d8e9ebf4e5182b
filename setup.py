"""Build and install mmpse_ext with its C++/CUDA extension ``mmpse_ext._C``.

The CUDA kernels are compiled whenever torch has CUDA, a GPU is visible and nvcc is found
(``$CUDA_HOME/bin/nvcc``, else ``nvcc`` on ``PATH``), or when ``FORCE_CUDA=1`` (e.g. on a build
machine without a GPU); otherwise a CPU-only extension is built, and CUDA tensors are decoded on
the host. The decision and its reason are printed, and recorded with the versions the extension
is built against in the generated module ``mmpse_ext/ops/_build_info.py``, written next to the
built library (read by ``python tools/analysis_tools/collect_env.py``; a library built against
another torch than the loaded one is refused at import). torch's BuildExtension picks the C++
standard and honours ``MAX_JOBS`` and ``TORCH_CUDA_ARCH_LIST``; ``DEBUG=1`` builds without
optimisation and with symbols.

The extension must be compiled against the torch it will run with, so the build uses the torch
installed in the target environment: ``pip install --no-build-isolation --no-deps .`` (README).
A build in an isolated environment (pip's build isolation, ``python -m build``), whose torch
would not be the user's, stops with one line naming that command.
"""
import glob
import os
import pprint
import shutil
import subprocess
import sys
from setuptools import find_packages, setup

ROOT = os.path.dirname(os.path.abspath(__file__))
BUILD_INFO_RELPATH = os.path.join('ops', '_build_info.py')  # inside the package directory
INSTALL_COMMAND = 'pip install --no-build-isolation --no-deps .'
# Path parts of the throw-away environments of pip's build isolation and of `python -m build`.
ISOLATED_BUILD_MARKERS = ('pip-build-env-', 'build-env-')


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


def import_build_torch():
    """The torch to compile against: the target environment's; exit with one line otherwise."""
    try:
        import torch
    except ImportError:
        sys.exit('mmpse_ext: the extension is compiled against the torch of the environment it '
                 'is installed into, and this build sees none: install torch (2.0 .. 2.14) '
                 f'first, then run `{INSTALL_COMMAND}`')
    check_not_isolated(torch.__version__, torch.__file__)
    return torch


def check_not_isolated(torch_version: str, torch_file: str) -> None:
    """Exit with one line if torch comes from an isolated build environment (not the user's)."""
    parts = os.path.normpath(torch_file).split(os.sep)
    if any(part.startswith(ISOLATED_BUILD_MARKERS) for part in parts):
        sys.exit(f'mmpse_ext: this build uses torch {torch_version} from an isolated build '
                 f'environment ({os.path.dirname(torch_file)}), and an extension compiled '
                 'against it would not load beside the torch you run: build against the '
                 f'installed torch with `{INSTALL_COMMAND}`')


def write_build_info(path: str, info: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('"""How mmpse_ext._C was built; written by setup.py (not tracked by git)."""\n')
        f.write(f'BUILD_INFO = {pprint.pformat(info, sort_dicts=False)}\n')


def get_extensions(torch):
    from torch.utils.cpp_extension import CUDA_HOME, CppExtension, CUDAExtension

    csrc = 'csrc'
    sources = sorted(
        glob.glob(os.path.join(csrc, '*.cpp')) + glob.glob(os.path.join(csrc, 'cpu', '*.cpp')))
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
    BUILD_INFO.update({
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
          f'TORCH_CUDA_ARCH_LIST={os.getenv("TORCH_CUDA_ARCH_LIST", "default")}' +
          (f', {" ".join(arch_flags)}' if arch_flags else '') + ')')
    return [
        extension(
            'mmpse_ext._C',
            sources=sources,
            include_dirs=[os.path.abspath(csrc)],
            extra_compile_args=extra_compile_args,
        )
    ]


BUILD_INFO = {}  # filled by get_extensions, written by build_ext next to the built library


def build_ext_class():
    """torch's BuildExtension (ninja), which also writes ``ops/_build_info.py`` beside ``_C``: in
    the source tree for in-place and editable builds, in the build directory (so in the wheel)
    otherwise, so building a wheel never rewrites the build record of an editable install."""
    from torch.utils.cpp_extension import BuildExtension

    class BuildExtensionWithInfo(BuildExtension.with_options(use_ninja=True)):

        def run(self):
            super().run()
            package_dir = os.path.dirname(self.get_ext_fullpath('mmpse_ext._C'))
            write_build_info(os.path.join(package_dir, BUILD_INFO_RELPATH), BUILD_INFO)

    return BuildExtensionWithInfo


if __name__ == '__main__':
    torch = import_build_torch()
    setup(
        name='mmpse_ext',
        version=read_version(),
        description='PSENet (progressive scale expansion) for the MMOCR ecosystem',
        packages=find_packages(include=['mmpse_ext', 'mmpse_ext.*']),
        python_requires='>=3.9',
        # The supported range (README, compatibility table); `--no-deps` installs never
        # resolve these, so an existing environment is not changed.
        install_requires=[
            'torch>=2.0', 'mmcv>=2.0.0,<2.1.0', 'mmengine>=0.7.0,<1.0', 'mmdet>=3.0.0,<3.2.0',
            'mmocr==1.0.1', 'pyclipper', 'shapely', 'opencv-python', 'numpy<2'
        ],
        ext_modules=get_extensions(torch),
        cmdclass={'build_ext': build_ext_class()},
        zip_safe=False,
    )
