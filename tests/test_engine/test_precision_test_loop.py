"""PrecisionTestLoop runs the model's test step under the asked autocast dtype with
channels_last weights (BatchNorm folded, the first and last convolution in float32), and feeds
the evaluator as mmengine's TestLoop does."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.structures import BaseDataElement
from torch import nn
from torch.utils.data import DataLoader

from mmpse_ext.engine import PrecisionTestLoop


class RecordingModel(nn.Module):
    """Three convolutions; records each one's output dtype and weight layout per test step."""

    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(3, 4, 3, padding=1)
        self.middle = nn.Conv2d(4, 4, 3, padding=1)
        self.norm = nn.BatchNorm2d(4)
        self.last = nn.Conv2d(4, 2, 3, padding=1)
        self.seen = []

    def _forward(self, inputs):
        return self.last(torch.relu(self.norm(self.middle(torch.relu(self.first(inputs))))))

    def test_step(self, data):
        seen = {}

        def record(name, conv, output):
            layout = conv.weight.is_contiguous(memory_format=torch.channels_last)
            seen.setdefault(name, (output.dtype, layout))

        hooks = [
            conv.register_forward_hook(
                lambda conv, inputs, output, name=name: record(name, conv, output))
            for name, conv in self.named_modules() if isinstance(conv, nn.Conv2d)
        ]
        output = self._forward(torch.stack(data))
        for hook in hooks:
            hook.remove()
        self.seen.append(seen)
        return [BaseDataElement(score=output.float().mean())]


class RecordingEvaluator:

    def __init__(self):
        self.processed, self.dataset_meta = [], None

    def process(self, data_samples, data_batch):
        self.processed.append(len(data_samples))

    def evaluate(self, size):
        return dict(size=size)


def make_loop(precision, model=None, **kwargs):
    model, evaluator = model or RecordingModel(), RecordingEvaluator()
    runner = SimpleNamespace(
        model=model, call_hook=lambda *args, **kwargs: None, visualizer=SimpleNamespace())
    images = [torch.rand(3, 8, 8) for _ in range(3)]
    loader = DataLoader(images, batch_size=2, collate_fn=list)
    loop = PrecisionTestLoop(runner, loader, evaluator, precision=precision, **kwargs)
    return loop, model, evaluator


@pytest.mark.parametrize('precision, dtype, channels_last', [('bf16', torch.bfloat16, True),
                                                             ('fp32', torch.float32, False)])
def test_test_step_runs_at_the_precision(precision, dtype, channels_last):
    loop, model, evaluator = make_loop(precision)
    assert loop.run() == dict(size=3)
    # the first and last convolution stay float32 at bf16; the wrapped ones keep their names
    # under .conv, so the hooks of the recording model see them by their new names
    expected = {
        'middle': (dtype, channels_last),
        'first.conv' if precision == 'bf16' else 'first': (torch.float32, channels_last),
        'last.conv' if precision == 'bf16' else 'last': (torch.float32, channels_last),
    }
    assert model.seen == [expected] * 2
    assert evaluator.processed == [1, 1]  # one output per batch from the recording model


def test_bf16_folds_batch_norm_into_its_convolution():
    loop, model, _ = make_loop('bf16', keep_float=())
    with torch.no_grad():
        model.norm.running_mean.uniform_(-1, 1)
        model.norm.running_var.uniform_(0.5, 2)
        model.eval()
        images = torch.rand(2, 3, 8, 8)
        expected = model._forward(images)
    loop.run()
    assert isinstance(model.norm, nn.Identity)
    model.float()  # the fold, compared in float32 with the unfolded model
    with torch.no_grad():
        torch.testing.assert_close(model._forward(images), expected, rtol=1e-5, atol=1e-5)


def test_keep_float_none_runs_every_conv_at_the_precision():
    loop, model, _ = make_loop('bf16', keep_float=())
    loop.run()
    assert model.seen == [dict.fromkeys(['first', 'middle', 'last'], (torch.bfloat16, True))] * 2


def test_keep_float_needs_a_network_forward():

    class NoForward(RecordingModel):
        _forward = None

    loop, _, _ = make_loop('bf16', model=NoForward())
    with pytest.raises(ValueError, match='has no _forward'):
        loop.run()
    with pytest.raises(ValueError, match='keep_float: unknown'):
        make_loop('bf16', keep_float=('middle_conv', ))


def test_unknown_precision_is_refused_at_build():
    with pytest.raises(ValueError, match='precision must be one of'):
        make_loop('int4')
