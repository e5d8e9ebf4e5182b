"""DeviceAgnosticAmpOptimWrapper on a torch without ``torch.amp.GradScaler`` (torch < 2.3; hidden
here on newer torch, real in the floor job on torch 2.0): CPU autocast in bfloat16 trains without
loss scaling, float16 on the CPU is refused, CUDA keeps dynamic scaling from 1024."""
import copy
import warnings

import pytest
import torch

from mmpse_ext.engine import amp_optim_wrapper
from mmpse_ext.engine.amp_optim_wrapper import DeviceAgnosticAmpOptimWrapper


@pytest.fixture
def torch_without_amp_grad_scaler(monkeypatch):
    """torch.amp without GradScaler; the wrapper's log lines recorded, its warn-once reset."""
    monkeypatch.delattr(torch.amp, 'GradScaler', raising=False)
    monkeypatch.setattr(amp_optim_wrapper, '_WARNED_NO_CPU_SCALER', [])
    logged = []
    monkeypatch.setattr(amp_optim_wrapper, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    return logged


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 1))


def test_cpu_bfloat16_steps_like_plain_autocast_without_scaling(torch_without_amp_grad_scaler):
    model, reference = _model(), _model()
    images = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    wrappers = [
        DeviceAgnosticAmpOptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            loss_scale=dict(init_scale=1024.0),
            device='cpu') for _ in range(2)
    ]  # the second one checks that the warning comes once
    wrapper = wrappers[0]
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(3):
        with wrapper.optim_context(model):
            loss = model(images).float().square().mean()
        wrapper.update_params(loss)
        with torch.autocast(device_type='cpu', dtype=torch.bfloat16, cache_enabled=False):
            reference_loss = reference(images).float().square().mean()
        reference_optimizer.zero_grad()
        reference_loss.backward()
        reference_optimizer.step()
        assert torch.equal(loss, reference_loss)
    for got, want in zip(model.parameters(), reference.parameters()):
        assert torch.equal(got, want)
    [message] = torch_without_amp_grad_scaler
    assert 'runs without loss scaling' in message and 'bfloat16' in message
    assert wrapper.state_dict()['loss_scaler'] == {}


def test_a_checkpoint_with_scaler_state_loads(torch_without_amp_grad_scaler):
    model = _model()
    wrapper = DeviceAgnosticAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), device='cpu')
    state = copy.deepcopy(wrapper.state_dict())
    state['loss_scaler'] = {
        'scale': 1024.0,
        'growth_factor': 2.0,
        'backoff_factor': 0.5,
        'growth_interval': 2000,
        '_growth_tracker': 3
    }
    wrapper.load_state_dict(state)


def test_cpu_float16_is_refused_with_the_way_out(torch_without_amp_grad_scaler):
    model = _model()
    with pytest.raises(ValueError, match="no CPU loss scaler .* use dtype='bfloat16'"):
        DeviceAgnosticAmpOptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1), dtype='float16', device='cpu')


def test_cuda_keeps_dynamic_scaling_from_1024(torch_without_amp_grad_scaler, monkeypatch):
    created = []

    class RecordingGradScaler(torch.cuda.amp.GradScaler):

        def __init__(self, **kwargs):
            created.append(kwargs)
            super().__init__(**kwargs)

    monkeypatch.setattr(torch.cuda.amp, 'GradScaler', RecordingGradScaler)
    model = _model()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # no GPU here: torch says it disables the scaler
        wrapper = DeviceAgnosticAmpOptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            loss_scale=dict(init_scale=1024.0),
            device='cuda')
    assert isinstance(wrapper.loss_scaler, RecordingGradScaler)
    assert created == [dict(init_scale=1024.0)]  # dynamic: GradScaler's own growth and backoff
    assert wrapper.cast_dtype == torch.float16
    assert not torch_without_amp_grad_scaler
