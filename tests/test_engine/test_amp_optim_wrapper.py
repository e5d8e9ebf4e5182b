"""DeviceAgnosticAmpOptimWrapper runs the recipe's AMP (autocast, dynamic loss scaling from 1024)
on the CPU: overflow → skipped step and halved scale; growth after the interval. The overflow
tests autocast in float16 (the recipe's GPU dtype), whose range the loss scaling is for."""
import pytest
import torch
from mmengine.optim import AmpOptimWrapper
from mmengine.registry import DefaultScope
from mmocr.structures import TextDetDataSample

from mmpse_ext.engine import DeviceAgnosticAmpOptimWrapper
from mmpse_ext.models.losses import PSELoss


def _wrapper(model, dtype='float16', **kwargs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return DeviceAgnosticAmpOptimWrapper(optimizer=optimizer, device='cpu', dtype=dtype, **kwargs)


def _linear():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    torch.nn.init.constant_(model.weight, 1.0)
    return model


def _step(wrapper, model, inputs):
    with wrapper.optim_context(model):
        out = model(inputs)
        loss = out.float().square().mean()
    wrapper.update_params(loss)
    return out, loss


def test_fp16_overflow_skips_the_step_and_halves_the_scale_from_1024():
    model = _linear()
    wrapper = _wrapper(model, loss_scale=dict(init_scale=1024.0))
    assert wrapper.loss_scaler.get_scale() == 1024.0
    before = [p.detach().clone() for p in model.parameters()]
    # 4 · 30000 = 120000 exceeds float16's maximum (65504) but not float32's.
    huge = torch.full((3, 4), 30000.0)
    out, _ = _step(wrapper, model, huge)
    assert out.dtype == torch.float16 and torch.isinf(out).all()  # autocast was on
    assert torch.isfinite(model(huge)).all()  # in fp32 the same step would not overflow
    assert wrapper.loss_scaler.get_scale() == 512.0
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before))  # skipped
    # a clean step afterwards updates the parameters and keeps the halved scale
    _step(wrapper, model, torch.randn(3, 4))
    assert wrapper.loss_scaler.get_scale() == 512.0
    assert not torch.equal(model.weight, before[0])


def test_scale_doubles_after_growth_interval_clean_steps():
    model = _linear()
    wrapper = _wrapper(model, loss_scale=dict(init_scale=1024.0, growth_interval=3))
    scales = []
    for _ in range(4):
        _step(wrapper, model, torch.randn(3, 4))
        scales.append(wrapper.loss_scaler.get_scale())
    assert scales == [1024.0, 1024.0, 2048.0, 2048.0]


def test_static_float_scale_is_reapplied_after_an_overflow():
    """mmengine's meaning of a float ``loss_scale``: a fixed scale, not a starting value."""
    model = _linear()
    wrapper = _wrapper(model, loss_scale=256.0)
    _step(wrapper, model, torch.full((3, 4), 30000.0))
    assert wrapper.loss_scaler.get_scale() == 256.0


def test_gradients_are_unscaled_before_the_optimizer_step():
    """The parameter update equals the fp16-autocast gradient without the 1024 factor."""
    model, reference = _linear(), _linear()
    wrapper = _wrapper(model, loss_scale=dict(init_scale=1024.0))
    inputs = torch.tensor([[0.5, -1.0, 0.25, 2.0]])
    _step(wrapper, model, inputs)
    with torch.autocast('cpu', dtype=torch.float16):
        loss = reference(inputs).float().square().mean()
    loss.backward()
    expected = reference.weight.detach() - 0.1 * reference.weight.grad
    torch.testing.assert_close(model.weight.detach(), expected, rtol=1e-3, atol=1e-4)


def test_pse_loss_stays_float32_under_the_wrappers_autocast():
    torch.manual_seed(0)
    head = torch.nn.Conv2d(4, 3, 1)
    wrapper = _wrapper(head, loss_scale=dict(init_scale=1024.0))
    kernels = torch.zeros(3, 32, 32, dtype=torch.uint8)
    kernels[0, 4:20, 4:28] = 1
    kernels[1, 6:18, 6:26] = 1
    kernels[2, 8:16, 8:24] = 1
    samples = []
    for _ in range(2):
        sample = TextDetDataSample()
        sample.gt_kernels = kernels
        sample.gt_train_mask = torch.ones(32, 32, dtype=torch.uint8)
        samples.append(sample)
    with wrapper.optim_context(head):
        preds = head(torch.randn(2, 4, 8, 8))
        losses = PSELoss()(preds, samples)
    assert preds.dtype == torch.float16
    assert all(value.dtype == torch.float32 for value in losses.values())
    before = head.weight.detach().clone()
    wrapper.update_params(losses['loss_text'] + losses['loss_kernel'])
    assert not torch.equal(head.weight, before) and wrapper.loss_scaler.get_scale() == 1024.0


def test_state_dict_round_trip_keeps_the_scaler_state():
    model = _linear()
    wrapper = _wrapper(model, loss_scale=dict(init_scale=1024.0, growth_interval=2))
    _step(wrapper, model, torch.full((3, 4), 30000.0))  # 1024 → 512
    _step(wrapper, model, torch.randn(3, 4))  # one clean step towards growth
    state = wrapper.state_dict()
    assert state['loss_scaler']['scale'] == 512.0 and state['loss_scaler']['_growth_tracker'] == 1
    restored = _wrapper(_linear(), loss_scale=dict(init_scale=1024.0, growth_interval=2))
    restored.load_state_dict(state)
    assert restored.loss_scaler.get_scale() == 512.0
    assert restored.loss_scaler._get_growth_tracker() == 1


def test_built_from_a_config_in_mmocrs_default_scope():
    from mmengine.registry import OPTIM_WRAPPERS
    model = _linear()
    with DefaultScope.overwrite_default_scope('mmocr'):
        wrapper = OPTIM_WRAPPERS.build(
            dict(
                type='mmpse_ext.DeviceAgnosticAmpOptimWrapper', loss_scale=dict(init_scale=1024.0)),
            default_args=dict(optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    assert isinstance(wrapper, DeviceAgnosticAmpOptimWrapper)
    assert isinstance(wrapper, AmpOptimWrapper)  # mmengine's hooks treat it as AMP
    assert wrapper.device_type == 'cpu' and wrapper.loss_scaler.get_scale() == 1024.0


@pytest.mark.parametrize('device, dtype', [('cpu', torch.bfloat16), ('cuda', torch.float16)])
def test_default_dtype_is_float16_except_bfloat16_on_the_cpu(device, dtype):
    model = _linear()
    wrapper = DeviceAgnosticAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), device=device)
    assert wrapper.cast_dtype == dtype


def test_bfloat16_autocast_is_selectable():
    model = _linear()
    wrapper = _wrapper(model, dtype='bfloat16')
    out, loss = _step(wrapper, model, torch.randn(3, 4))
    assert out.dtype == torch.bfloat16 and loss.dtype == torch.float32


def test_bad_arguments_raise_clear_errors():
    model = _linear()
    with pytest.raises(TypeError, match="loss_scale must be 'dynamic'"):
        _wrapper(model, loss_scale='static')
    with pytest.raises(ValueError, match="dtype must be one of .* got 'half'"):
        _wrapper(model, dtype='half')
