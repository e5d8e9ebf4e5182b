"""The CUDA kernel of the ``pse_ext`` op (csrc/cuda/pse_kernel.cu) gives the CPU op's partition.

On CPU CI its schedule is checked as a Python model (``layer_synchronous_pse`` in
pse_reference.py: one BFS layer at a time, the earliest claim in queue order wins) against the
FIFO reference; test_pse_cuda_emulated.py compiles the kernel's source as C++; the
``needs_cuda`` tests here run it on a GPU.
"""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from pse_reference import (layer_synchronous_pse, pse_inputs, reference_pse, run_op,
                           word_like_kernels)

from mmpse_ext.ops import progressive_scale_expansion


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pse_inputs())
def test_layer_synchronous_schedule_of_the_cuda_kernel_equals_fifo(inputs):
    """The CUDA kernel's claim to exactness, checked on its schedule (in Python) on CPU CI."""
    kernels, _, min_area = inputs
    np.testing.assert_array_equal(
        layer_synchronous_pse(kernels, min_area), reference_pse(kernels, min_area))


def test_layer_synchronous_schedule_on_a_realistic_image():
    rng = np.random.default_rng(3)
    kernels = word_like_kernels(160, 240, 25, 7, rng)
    expected = reference_pse(kernels, 4)
    assert expected.max() >= 10  # the generator really produced many instances
    np.testing.assert_array_equal(layer_synchronous_pse(kernels, 4), expected)


@pytest.mark.needs_cuda
def test_mixed_devices_raise():
    kernels = torch.ones(2, 3, 3, dtype=torch.uint8)
    with pytest.raises(RuntimeError, match='same device'):
        progressive_scale_expansion(kernels.cuda(), torch.zeros(3, 3), 0)
    with pytest.raises(RuntimeError, match='same device'):
        progressive_scale_expansion(kernels, torch.zeros(3, 3).cuda(), 0)


@pytest.mark.needs_cuda
@settings(max_examples=200, deadline=None)
@given(pse_inputs())
def test_cuda_matches_cpu_on_random_masks(inputs):
    """The CUDA kernel replays the CPU FIFO order level by level (a pixel is claimed by its
    earliest neighbour in queue order), so the partition must be identical: no pixel, not even
    one equidistant from two seeds, may differ. Score sums may differ by float64 rounding only
    (atomic accumulation order)."""
    kernels, score, min_area = inputs
    cpu = run_op(kernels, score, min_area, 'cpu')
    cuda = run_op(kernels, score, min_area, 'cuda')
    assert torch.equal(cuda.labels, cpu.labels)
    assert torch.equal(cuda.areas, cpu.areas)
    assert torch.equal(cuda.boxes, cpu.boxes)
    torch.testing.assert_close(cuda.score_sums, cpu.score_sums, rtol=1e-12, atol=1e-9)


@pytest.mark.needs_cuda
@pytest.mark.parametrize('num_levels', [1, 2, 7, 9])
def test_cuda_matches_cpu_on_word_like_images(num_levels):
    rng = np.random.default_rng(num_levels)
    for _ in range(5):
        kernels = word_like_kernels(200, 300, 40, num_levels, rng)
        score = rng.random((200, 300), dtype=np.float32)
        cpu = run_op(kernels, score, 4, 'cpu')
        cuda = run_op(kernels, score, 4, 'cuda')
        assert torch.equal(cuda.labels, cpu.labels)
        assert torch.equal(cuda.areas, cpu.areas) and torch.equal(cuda.boxes, cpu.boxes)
        torch.testing.assert_close(cuda.score_sums, cpu.score_sums, rtol=1e-12, atol=1e-9)
