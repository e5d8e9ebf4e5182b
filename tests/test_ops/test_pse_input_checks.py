"""The ``pse_ext`` op's argument checks: each bad input raises a RuntimeError naming the argument
and the bad value (in the CPU and the fake kernel), and random inputs never crash it."""
import numpy as np
import pytest
import torch
from torch_features import needs_fake_kernels

from mmpse_ext.ops import progressive_scale_expansion

BAD_INPUTS = [
    # (kernels, score, min_area, message fragment naming the argument and the bad value)
    (torch.zeros(4, 5, dtype=torch.uint8), torch.zeros(4, 5), 0, 'got 2D'),
    (torch.zeros(1, 2, 4, 5, dtype=torch.uint8), torch.zeros(4, 5), 0, 'got 4D'),
    (torch.zeros(2, 4, 5), torch.zeros(4, 5), 0, 'bool or uint8, got Float'),
    (torch.zeros(2, 4, 5, dtype=torch.int32), torch.zeros(4, 5), 0, 'got Int'),
    (torch.zeros(0, 4, 5, dtype=torch.uint8), torch.zeros(4, 5), 0, 'K = 0'),
    (torch.zeros(2, 4, 5,
                 dtype=torch.uint8), torch.zeros(4, 5), -1, 'min_area should be >= 0, got -1'),
    (torch.zeros(2, 4, 5, dtype=torch.uint8), torch.zeros(5, 4), 0, 'got [5, 4]'),
    (torch.zeros(2, 4, 5, dtype=torch.uint8), torch.zeros(4, 5, 1), 0, 'score should be a 2D'),
    (torch.zeros(2, 4, 5,
                 dtype=torch.uint8), torch.zeros(4, 5,
                                                 dtype=torch.float64), 0, 'float32, got Double'),
]


@pytest.mark.parametrize('kernels,score,min_area,message', BAD_INPUTS)
def test_bad_inputs_raise_with_the_offending_value(kernels, score, min_area, message):
    with pytest.raises(RuntimeError, match='progressive_scale_expansion') as error:
        progressive_scale_expansion(kernels, score, min_area)
    assert message in str(error.value)


@needs_fake_kernels
@pytest.mark.parametrize('kernels,score,min_area,message', BAD_INPUTS)
def test_bad_inputs_raise_in_the_fake_kernel_too(kernels, score, min_area, message):
    with pytest.raises(RuntimeError, match='progressive_scale_expansion'):
        progressive_scale_expansion(kernels.to('meta'), score.to('meta'), min_area)


def is_valid(kernels: torch.Tensor, score: torch.Tensor, min_area: int) -> bool:
    return (kernels.dim() == 3 and kernels.dtype in (torch.bool, torch.uint8)
            and kernels.shape[0] >= 1 and score.dim() == 2 and score.dtype == torch.float32
            and tuple(score.shape) == tuple(kernels.shape[1:]) and min_area >= 0)


def random_fuzz_case(rng: np.random.Generator):
    """A valid input (K, H, W in 0..5, sometimes non-contiguous) with 0-2 random corruptions."""
    shape = [int(s) for s in rng.integers(0, 6, 3)]
    shape[0] = max(shape[0], 1)
    kernels = torch.from_numpy(rng.integers(0, 2, shape, dtype=np.uint8))
    if rng.random() < 0.5:
        kernels = kernels.bool()
    score = torch.from_numpy(rng.random(shape[1:], dtype=np.float32))
    if rng.random() < 0.3:
        kernels = kernels.transpose(1, 2).contiguous().transpose(1, 2)
        score = score.T.contiguous().T
    min_area = int(rng.integers(0, 4))
    for _ in range(rng.integers(0, 3)):
        corruption = rng.integers(0, 7)
        if corruption == 0:  # wrong kernels rank
            kernels = kernels.reshape(-1) if rng.random() < 0.5 else kernels[None]
        elif corruption == 1:  # wrong kernels dtype
            kernels = kernels.to([torch.float32, torch.int32, torch.int8,
                                  torch.float64][rng.integers(0, 4)])
        elif corruption == 2:  # K = 0
            kernels = kernels[:0]
        elif corruption == 3:  # mismatched score shape
            score = torch.rand(int(rng.integers(0, 6)), int(rng.integers(0, 6)))
        elif corruption == 4:  # wrong score dtype
            score = score.to([torch.float64, torch.float16, torch.int32,
                              torch.uint8][rng.integers(0, 4)])
        elif corruption == 5:  # wrong score rank
            score = score.reshape(-1) if rng.random() < 0.5 else score[None]
        else:
            min_area = -int(rng.integers(1, 1000))
    return kernels, score, min_area


def test_fuzz_random_inputs_never_crash():
    """3000 random inputs: valid ones run and give consistent outputs, invalid ones raise a
    RuntimeError from the op's checks (never a crash or a wrong-shaped result)."""
    rng = np.random.default_rng(5)
    num_valid = 0
    for _ in range(3000):
        kernels, score, min_area = random_fuzz_case(rng)
        if is_valid(kernels, score, min_area):
            num_valid += 1
            result = progressive_scale_expansion(kernels, score, min_area)
            assert result.labels.shape == kernels.shape[1:]
            num_instances = int(result.labels.max()) if result.labels.numel() else 0
            assert len(result.areas) == len(result.boxes) == num_instances
            assert int(result.areas.sum()) == int((result.labels > 0).sum())
        else:
            with pytest.raises(RuntimeError, match='progressive_scale_expansion: '):
                progressive_scale_expansion(kernels, score, min_area)
    assert 500 < num_valid < 2500  # both branches are exercised


@needs_fake_kernels
def test_mixed_devices_raise_on_cpu_only_machines_too():
    kernels = torch.ones(2, 3, 3, dtype=torch.uint8)
    with pytest.raises(RuntimeError, match='same device'):
        progressive_scale_expansion(kernels, torch.zeros(3, 3, device='meta'), 0)
