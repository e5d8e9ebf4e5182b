"""mmengine's ``TestLoop`` at a chosen precision: bfloat16 on the CPU, float16 (or bfloat16) on
GPUs, so ``tools/test.py --precision`` and MMOCR's own tools measure a reduced-precision model
with the real evaluator."""
from typing import Dict, List, Sequence, Union

import torch
from mmengine.runner import TestLoop
from mmengine.runner.loops import _update_losses
from torch.utils.data import DataLoader

from mmpse_ext.registry import LOOPS
from .inference_precision import autocast_dtype, to_channels_last


@LOOPS.register_module()
class PrecisionTestLoop(TestLoop):
    """Test with the model's forward under ``torch.autocast`` of ``precision``.

    mmengine's own ``TestLoop(fp16=True)`` autocasts to bfloat16 on the CPU and float16 on
    CUDA, with NCHW weights; this loop takes the dtype by name (``'bf16'`` on a GPU too) and
    stores the weights channels_last, which is where the CPU's bfloat16 convolutions are fast
    (docs/deploy.md). Our ``PSEPostprocessor`` casts the logits to float32 before decoding, so
    only the network runs in reduced precision.

    Config (MMOCR's ``tools/test.py`` included, with ``custom_imports`` of ``mmpse_ext``)::

        test_cfg = dict(type='mmpse_ext.PrecisionTestLoop', precision='bf16')

    Args:
        runner (Runner): the runner.
        dataloader (DataLoader | dict): the test dataloader.
        evaluator (Evaluator | dict | list): the test evaluator.
        precision (str): ``'fp32'``, ``'bf16'`` or ``'fp16'``.
        channels_last (bool): store the weights channels_last (NHWC) before testing.

    Raises:
        ValueError: an unknown precision, or one the device cannot run (bf16 on an old GPU).
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 precision: str = 'bf16',
                 channels_last: bool = True) -> None:
        super().__init__(runner, dataloader, evaluator, fp16=False)
        self.precision = precision
        self.channels_last = channels_last
        autocast_dtype(precision, self._device())  # an unusable precision fails here

    def _device(self) -> torch.device:
        parameter = next(self.runner.model.parameters(), None)
        return parameter.device if parameter is not None else torch.device('cpu')

    def run(self) -> dict:
        """Convert the weights' layout if asked, then test as mmengine does."""
        self.dtype = autocast_dtype(self.precision, self._device())
        if self.dtype is not None and self.channels_last:
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
