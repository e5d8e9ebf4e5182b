"""mmengine's ``TestLoop`` at a chosen precision: bfloat16 on the CPU, float16 (or bfloat16) on
GPUs, so ``tools/test.py --precision`` and MMOCR's own tools measure a reduced-precision model
with the real evaluator."""
from typing import Dict, List, Sequence, Union

import torch
from mmengine.runner import TestLoop
from mmengine.runner.loops import _update_losses
from torch.utils.data import DataLoader

from mmpse_ext.registry import LOOPS
from .conv_bn_folding import fold_batch_norms_in_place
from .float32_convs import DEFAULT_KEEP_FLOAT, check_keep_float, keep_convs_float32
from .inference_precision import autocast_dtype, to_channels_last


class _NetworkForward(torch.nn.Module):
    """``model._forward`` (backbone + neck + head of an MMOCR detector) as a module's forward."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs):
        return self.model._forward(inputs)


@LOOPS.register_module()
class PrecisionTestLoop(TestLoop):
    """Test with the model's forward under ``torch.autocast`` of ``precision``.

    mmengine's own ``TestLoop(fp16=True)`` autocasts to bfloat16 on the CPU and float16 on
    CUDA, with NCHW weights; this loop takes the dtype by name (``'bf16'`` on a GPU too) and
    stores the weights channels_last, which is where the CPU's bfloat16 convolutions are fast
    (docs/deploy.md). Like ``PSEDetector``'s backend it first folds the BatchNorm layers into
    their convolutions and keeps the first and last convolution float32
    (:mod:`mmpse_ext.engine.float32_convs`), so both compute the same reduced-precision network.
    Our ``PSEPostprocessor`` casts the logits to float32 before decoding, so only the network
    runs in reduced precision.

    Config (MMOCR's ``tools/test.py`` included, with ``custom_imports`` of ``mmpse_ext``)::

        test_cfg = dict(type='mmpse_ext.PrecisionTestLoop', precision='bf16')

    Args:
        runner (Runner): the runner.
        dataloader (DataLoader | dict): the test dataloader.
        evaluator (Evaluator | dict | list): the test evaluator.
        precision (str): ``'fp32'``, ``'bf16'`` or ``'fp16'``.
        channels_last (bool): store the weights channels_last (NHWC) before testing.
        keep_float (Sequence[str]): convolutions run in float32 (``'first_conv'``,
            ``'last_conv'``; ``()`` = none).

    Raises:
        ValueError: an unknown precision, one the device cannot run (bf16 on an old GPU), or a
            bad ``keep_float``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 precision: str = 'bf16',
                 channels_last: bool = True,
                 keep_float: Sequence[str] = DEFAULT_KEEP_FLOAT) -> None:
        super().__init__(runner, dataloader, evaluator, fp16=False)
        self.precision = precision
        self.channels_last = channels_last
        self.keep_float = tuple(keep_float)
        check_keep_float(self.keep_float)
        autocast_dtype(precision, self._device())  # an unusable precision fails here

    def _device(self) -> torch.device:
        parameter = next(self.runner.model.parameters(), None)
        return parameter.device if parameter is not None else torch.device('cpu')

    def run(self) -> dict:
        """Fold the BatchNorm layers, keep the chosen convolutions float32, convert the weights'
        layout if asked, then test as mmengine does."""
        device = self._device()
        self.dtype = autocast_dtype(self.precision, device)
        if self.dtype is not None:
            model = getattr(self.runner.model, 'module', self.runner.model).eval()  # (DDP)
            if callable(getattr(model, '_forward', None)):
                example = torch.zeros(1, 3, 64, 64, device=device)
                fold_batch_norms_in_place(_NetworkForward(model), example)
                keep_convs_float32(model, lambda: model._forward(example), self.keep_float)
            elif self.keep_float:
                raise ValueError(f'keep_float={self.keep_float}: {type(model).__name__} has no '
                                 '_forward (network forward) to find its convolutions by; '
                                 'use keep_float=()')
            if self.channels_last:
                to_channels_last(self.runner.model)
        return super().run()

    @torch.no_grad()
    def run_iter(self, idx, data_batch: Sequence[dict]) -> None:
        """mmengine's ``TestLoop.run_iter`` with the test step under our autocast."""
        self.runner.call_hook('before_test_iter', batch_idx=idx, data_batch=data_batch)
        device = self._device()
        with torch.autocast(
                device.type, dtype=self.dtype or torch.bfloat16, enabled=self.dtype is not None):
            outputs = self.runner.model.test_step(data_batch)
        outputs, self.test_loss = _update_losses(outputs, self.test_loss)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_test_iter', batch_idx=idx, data_batch=data_batch, outputs=outputs)
