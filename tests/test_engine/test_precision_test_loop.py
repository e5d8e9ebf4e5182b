"""PrecisionTestLoop runs the model's test step under the asked autocast dtype with
channels_last weights, and feeds the evaluator as mmengine's TestLoop does."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.structures import BaseDataElement
from torch import nn
from torch.utils.data import DataLoader

from mmpse_ext.engine import PrecisionTestLoop


class RecordingModel(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.seen = []

    def test_step(self, data):
        output = self.conv(torch.stack(data))
        self.seen.append(
            (output.dtype, self.conv.weight.is_contiguous(memory_format=torch.channels_last)))
        return [BaseDataElement(score=output.float().mean())]


class RecordingEvaluator:

    def __init__(self):
        self.processed, self.dataset_meta = [], None

    def process(self, data_samples, data_batch):
        self.processed.append(len(data_samples))

    def evaluate(self, size):
        return dict(size=size)


def make_loop(precision):
    model, evaluator = RecordingModel(), RecordingEvaluator()
    runner = SimpleNamespace(
        model=model, call_hook=lambda *args, **kwargs: None, visualizer=SimpleNamespace())
    images = [torch.rand(3, 8, 8) for _ in range(3)]
    loader = DataLoader(images, batch_size=2, collate_fn=list)
    return PrecisionTestLoop(runner, loader, evaluator, precision=precision), model, evaluator


@pytest.mark.parametrize('precision, dtype, channels_last', [('bf16', torch.bfloat16, True),
                                                             ('fp32', torch.float32, False)])
def test_test_step_runs_at_the_precision(precision, dtype, channels_last):
    loop, model, evaluator = make_loop(precision)
    assert loop.run() == dict(size=3)
    assert model.seen == [(dtype, channels_last)] * 2
    assert evaluator.processed == [1, 1]  # one output per batch from the recording model


def test_unknown_precision_is_refused_at_build():
    with pytest.raises(ValueError, match='precision must be one of'):
        make_loop('int4')
