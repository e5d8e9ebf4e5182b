"""The CUDA kernel's source (csrc/cuda/pse_kernel.cu) run serially on the CPU.

CPU CI has no GPU, so this test compiles the .cu file as C++ with the kernel launches rewritten
to serial loops (tests/test_ops/cuda_emulation.h) and registers it as
``torch.ops.pse_ext_cuda_emulation.progressive_scale_expansion``. It checks the CUDA code's logic
and indexing against the CPU op: the partition must be identical (the kernel replays the FIFO
order), not only equal up to ties. Races and speed need a real GPU (the needs_cuda tests in
test_pse_cuda.py).
"""
import os
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from pse_reference import pse_inputs, run_op, word_like_kernels

pytestmark = pytest.mark.slow  # compiles a C++ extension (~30-60 s on 2 cores)

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join(HERE, '..', '..', 'csrc')
SCHEMA = ('progressive_scale_expansion(Tensor kernels, Tensor score, int min_area) -> '
          '(Tensor labels, Tensor areas, Tensor score_sums, Tensor boxes)')


def emulated_source() -> str:
    with open(os.path.join(CSRC, 'cuda', 'pse_kernel.cu')) as f:
        source = f.read()
    source, launches = re.subn(r'(\w+)<<<(.+?), kThreads, 0, stream>>>\(',
                               r'emulate_launch(\1, \2, kThreads)(', source)
    assert launches >= 9, f'expected every kernel launch to be rewritten, got {launches}'
    source = re.sub(r'#include <(ATen/cuda|c10/cuda)/\w+\.h>\n', '', source)
    source = source.replace('c10::DeviceType::CUDA', 'c10::DeviceType::CPU')
    registration = 'TORCH_LIBRARY_IMPL(pse_ext, CUDA, m) {'
    assert registration in source
    source = source.replace(
        registration, f'TORCH_LIBRARY(pse_ext_cuda_emulation, m) {{ m.def("{SCHEMA}"); }}\n'
        'TORCH_LIBRARY_IMPL(pse_ext_cuda_emulation, CPU, m) {')
    return '#include "cuda_emulation.h"\n' + source


@pytest.fixture(scope='module')
def emulated_op(tmp_path_factory):
    from torch.utils.cpp_extension import load
    build_dir = tmp_path_factory.mktemp('pse_cuda_emulation')
    source_path = build_dir / 'pse_kernel_emulated.cpp'
    source_path.write_text(emulated_source())
    load(
        name='pse_cuda_emulation',
        sources=[str(source_path)],
        extra_cflags=['-O2'],
        extra_include_paths=[CSRC, HERE],
        build_directory=str(build_dir),
        is_python_module=False,
        verbose=False)
    return torch.ops.pse_ext_cuda_emulation.progressive_scale_expansion


def assert_same_as_cpu_op(emulated_op, kernels: np.ndarray, score: np.ndarray, min_area: int):
    expected = run_op(kernels, score, min_area)
    got = emulated_op(torch.from_numpy(kernels), torch.from_numpy(score), min_area)
    assert torch.equal(got[0], expected.labels)
    assert torch.equal(got[1], expected.areas)
    torch.testing.assert_close(got[2], expected.score_sums, rtol=1e-12, atol=1e-9)
    assert torch.equal(got[3], expected.boxes)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(inputs=pse_inputs())
def test_emulated_cuda_kernel_equals_cpu_on_random_masks(emulated_op, inputs):
    assert_same_as_cpu_op(emulated_op, *inputs)


@pytest.mark.parametrize('num_levels', [1, 2, 7, 9])
def test_emulated_cuda_kernel_equals_cpu_on_touching_words(emulated_op, num_levels):
    rng = np.random.default_rng(num_levels)
    for _ in range(3):
        kernels = word_like_kernels(64, 96, 12, num_levels, rng)
        assert_same_as_cpu_op(emulated_op, kernels, rng.random((64, 96), dtype=np.float32), 3)


def test_emulated_cuda_kernel_handles_empty_and_seedless_inputs(emulated_op):
    for shape in [(1, 0, 0), (3, 0, 5), (7, 4, 0), (3, 5, 6)]:
        kernels = np.zeros(shape, np.uint8)
        if shape == (3, 5, 6):
            kernels[:2] = 1  # text and middle kernel, but no seed
        assert_same_as_cpu_op(emulated_op, kernels, np.ones(shape[1:], np.float32), 0)


def test_emulated_cuda_kernel_checks_inputs(emulated_op):
    with pytest.raises(RuntimeError, match='min_area should be >= 0, got -2'):
        emulated_op(torch.ones(2, 3, 3, dtype=torch.uint8), torch.zeros(3, 3), -2)
