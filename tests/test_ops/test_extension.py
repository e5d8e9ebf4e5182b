"""The ops never fail for want of a device kernel: CUDA inputs without a CUDA kernel run on the CPU.

CUDA tensors are emulated on the CPU (``tests/cuda_typed_tensor.py``): they report ``cuda`` and,
like the dispatcher, refuse ``pse_ext`` ops that have no CUDA kernel. The "has a CUDA kernel"
answer is mocked to False, as a CPU-only build gives it, so these tests mean the same on a GPU
machine with a CUDA build.
"""
import warnings

import numpy as np
import pytest
import torch
from cuda_typed_tensor import CudaTypedTensor, cuda_typed, emulated_host_to_device_copies
from pse_reference import word_like_kernels
from torch_features import needs_fake_kernels

from mmpse_ext.ops import (extension, pack_kernel_masks, progressive_scale_expansion,
                           progressive_scale_expansion_from_logits,
                           progressive_scale_expansion_packed)


@pytest.fixture
def cpu_only_build(monkeypatch):
    """The loaded extension reports no CUDA kernel; the once-only warnings are reset."""
    monkeypatch.setattr(extension, 'has_kernel', lambda op, device_type: device_type == 'cpu')
    monkeypatch.setattr(extension, '_WARNED', set())
    with emulated_host_to_device_copies():
        yield


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    kernels = torch.from_numpy(word_like_kernels(40, 64, 6, 4, rng))
    score = torch.rand(40, 64, generator=torch.Generator().manual_seed(seed))
    return kernels, score


def _assert_same(result, expected, device_type):
    for got, want in zip(result, expected):
        assert got.device.type == device_type
        assert torch.equal(got.cpu(), want)


def test_the_loaded_build_answers_the_kernel_question():
    """The real dispatcher answer: a CPU kernel for every op; a CUDA kernel only for the
    expansion, and only in a CUDA build."""
    for op in ('progressive_scale_expansion', 'progressive_scale_expansion_from_logits',
               'progressive_scale_expansion_packed'):
        assert extension.has_kernel(op, 'cpu')
    assert not extension.has_kernel('progressive_scale_expansion_from_logits', 'cuda')
    assert not extension.has_kernel('progressive_scale_expansion_packed', 'cuda')
    with pytest.raises(RuntimeError, match='does not exist|not found|no such'):
        torch._C._dispatch_has_kernel_for_dispatch_key('pse_ext::no_such_op', 'CPU')


def test_the_emulated_dispatcher_refuses_an_op_without_cuda_kernel():
    """Precondition of the tests below: without the fallback, CUDA inputs would fail."""
    kernels, score = _inputs()
    with pytest.raises(NotImplementedError, match="from the 'CUDA' backend"):
        torch.ops.pse_ext.progressive_scale_expansion(cuda_typed(kernels), cuda_typed(score), 0)


def test_cuda_inputs_get_the_cpu_result_with_one_warning(cpu_only_build):
    kernels, score = _inputs()
    expected = progressive_scale_expansion(kernels, score, 4)
    assert len(expected.areas) > 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for _ in range(3):
            result = progressive_scale_expansion(cuda_typed(kernels), cuda_typed(score), 4)
            _assert_same(result, expected, 'cuda')
            assert isinstance(result.labels, CudaTypedTensor)  # moved back to the input's device
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1
    assert 'pse_ext::progressive_scale_expansion has no CUDA kernel' in messages[0]
    assert 'tools/analysis_tools/collect_env.py' in messages[0]


def test_cpu_inputs_never_warn(cpu_only_build):
    kernels, score = _inputs(1)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        progressive_scale_expansion(kernels, score, 0)


def test_cpu_only_ops_take_cuda_inputs_through_the_host(cpu_only_build):
    """The fused and the packed op are CPU kernels by design: CUDA inputs are decoded on host
    copies, with one warning per op."""
    generator = torch.Generator().manual_seed(2)
    logits = torch.randn(4, 10, 16, generator=generator) * 3
    expected = progressive_scale_expansion_from_logits(logits, 4, (38, 64), 2, 0.5)
    masks = torch.rand(3, 40, 64, generator=generator) < 0.6
    packed = pack_kernel_masks(masks)
    expected_packed = progressive_scale_expansion_packed(packed, 3, logits[0], 4, 2)
    with pytest.warns(RuntimeWarning) as caught:
        for _ in range(2):
            _assert_same(
                progressive_scale_expansion_from_logits(cuda_typed(logits), 4, (38, 64), 2, 0.5),
                expected, 'cuda')
            _assert_same(
                progressive_scale_expansion_packed(
                    cuda_typed(packed), 3, cuda_typed(logits[0]), 4, 2), expected_packed, 'cuda')
    messages = sorted(str(w.message).split(' has no')[0] for w in caught)
    assert messages == [
        'pse_ext::progressive_scale_expansion_from_logits',
        'pse_ext::progressive_scale_expansion_packed'
    ]


@needs_fake_kernels
def test_meta_tensors_reach_the_fake_kernel_without_fallback(cpu_only_build):
    """``meta`` inputs (shape checks while tracing) are never copied to the host."""
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        with pytest.raises(RuntimeError, match='kernels should be a 3D tensor'):
            progressive_scale_expansion(
                torch.zeros(8, 8, dtype=torch.uint8, device='meta'),
                torch.zeros(8, 8, device='meta'), 0)
