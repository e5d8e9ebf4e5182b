"""Two ways to run :class:`~mmpse_ext.apis.PSELogitsNetwork`: eager PyTorch or ONNX Runtime.

Both take the same padded raw-pixel batch and return the same logits, so everything around
them (pipeline, batching, post-processing) is shared by :class:`~mmpse_ext.apis.PSEDetector`.
"""
import copy
import os.path as osp
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from mmpse_ext.engine import (DEFAULT_KEEP_FLOAT, autocast_dtype, fold_batch_norms,
                              keep_convs_float32, reduced_precision_convs, to_channels_last)
from .checkpoint_reading import CheckpointError
from .logits_network import PSELogitsNetwork


class TorchLogitsBackend:
    """Runs the network in eager PyTorch (``torch.inference_mode``) on ``device``.

    At ``precision='bf16'`` / ``'fp16'`` the network runs under ``torch.autocast`` of that dtype
    with its weights and input stored channels_last (the layout of oneDNN's fast bfloat16
    convolutions on the CPU, and of tensor-core convolutions on GPUs). Before that, the BatchNorm
    layers are folded into their convolutions (:func:`mmpse_ext.engine.fold_batch_norms`) and
    the convolution weights are cast once, so no call spends time on BN passes or weight casts;
    the first and the last convolution stay float32 (:mod:`mmpse_ext.engine.float32_convs`:
    half the logit error for ~0.1 % of the work). All of this is done on the backend's own copy
    of ``network``; the caller's stays as it was. The logits are returned as float32 either way:
    the post-processing never sees reduced precision.

    Args:
        network (PSELogitsNetwork): the network, in eval mode.
        device (str | torch.device): where it runs; logits stay there, so the post-processor
            takes its CUDA path on a GPU.
        precision (str): ``'fp32'``, ``'bf16'`` or ``'fp16'``
            (:func:`mmpse_ext.engine.autocast_dtype` says what each means on which device).
        keep_float (Sequence[str]): convolutions kept float32 at reduced precision
            (``'first_conv'``, ``'last_conv'``; ``()`` = none).

    Raises:
        ValueError: an unknown precision, one the device cannot run, or a bad ``keep_float``.
    """

    name = 'pytorch'

    def __init__(self,
                 network: PSELogitsNetwork,
                 device: Union[str, torch.device],
                 precision: str = 'fp32',
                 keep_float: Sequence[str] = DEFAULT_KEEP_FLOAT) -> None:
        self.device = torch.device(device)
        self.precision = precision
        self.dtype = autocast_dtype(precision, self.device)
        #: names of the convolutions kept float32 (none at fp32)
        self.float_convs = []
        network = network.eval()
        if self.dtype is not None:
            side = 2 * max(32, network.normalisation.size_divisor)  # every level >= 2 px
            example = torch.full((1, 3, side, side), 128.0)
            folded, count = fold_batch_norms(network, example)  # a copy when it folds
            network = folded if count else copy.deepcopy(network)  # never the caller's
            self.float_convs = keep_convs_float32(network, lambda: network(example), keep_float)
            for conv in reduced_precision_convs(network):
                conv.to(self.dtype)
            to_channels_last(network)
        self.network = network.to(self.device)

    def __call__(self, images: Tensor) -> Tensor:
        """``[N, 3, H, W]`` float32 raw pixels (CPU) → ``[N, K, H/4, W/4]`` float32 logits on
        ``device``."""
        images = images.to(self.device, non_blocking=True)
        with torch.inference_mode():
            if self.dtype is None:
                return self.network(images)
            images = images.contiguous(memory_format=torch.channels_last)
            with torch.autocast(self.device.type, dtype=self.dtype):
                logits = self.network(images)
            return logits.float().contiguous()


def onnxruntime_providers(device: Union[str, torch.device]) -> list:
    """ONNX Runtime execution providers for a torch-style device string.

    Raises:
        RuntimeError: a CUDA device was asked for but this onnxruntime build has no CUDA
            provider.
    """
    import onnxruntime as ort
    device = torch.device(device)
    if device.type == 'cpu':
        return ['CPUExecutionProvider']
    if device.type == 'cuda':
        if 'CUDAExecutionProvider' not in ort.get_available_providers():
            raise RuntimeError(
                f'device {device} asked for, but onnxruntime {ort.__version__} has no CUDA '
                f'execution provider (available: {ort.get_available_providers()}); install '
                'onnxruntime-gpu or use device="cpu"')
        return [('CUDAExecutionProvider', dict(device_id=device.index or 0)),
                'CPUExecutionProvider']
    raise RuntimeError(f'onnxruntime backend: unsupported device {device} (cpu or cuda)')


class OnnxRuntimeLogitsBackend:
    """Runs an exported network (``tools/model_converters/export_onnx.py``) with ONNX Runtime.

    Args:
        onnx_file (str): the ``.onnx`` file; input ``images`` ``[N, 3, H, W]`` float32, output
            ``logits``.
        device (str | torch.device): ``'cpu'`` or ``'cuda[:i]'`` (needs onnxruntime-gpu).
        num_threads (int, optional): ONNX Runtime intra-op threads; default: its own choice.

    Raises:
        FileNotFoundError: ``onnx_file`` does not exist.
        ImportError: onnxruntime is not installed.
    """

    name = 'onnxruntime'

    def __init__(self,
                 onnx_file: str,
                 device: Union[str, torch.device] = 'cpu',
                 num_threads: Optional[int] = None) -> None:
        if not osp.isfile(onnx_file):
            raise FileNotFoundError(f'ONNX file {onnx_file!r} does not exist')
        try:
            import onnxruntime as ort
        except ImportError as error:
            raise ImportError('the onnxruntime backend needs the onnxruntime package '
                              '(.dev_scripts/setup_env.sh installs it)') from error
        options = ort.SessionOptions()
        if num_threads is not None:
            options.intra_op_num_threads = int(num_threads)
            options.inter_op_num_threads = 1
        providers = onnxruntime_providers(device)
        try:
            self.session = ort.InferenceSession(
                onnx_file, sess_options=options, providers=providers)
        except Exception as error:  # onnxruntime's errors derive from Exception only
            reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise CheckpointError(f'ONNX file {onnx_file!r} cannot be loaded by ONNX Runtime: '
                                  f'{reason}') from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ValueError(f'{onnx_file}: expected one [N, 3, H, W] input, got '
                             f'{[(i.name, i.shape) for i in inputs]}')
        self.input_name, self.output_name = inputs[0].name, outputs[0].name

    def __call__(self, images: Tensor) -> Tensor:
        """``[N, 3, H, W]`` float32 raw pixels → ``[N, K, H/4, W/4]`` float32 logits (CPU)."""
        array = np.ascontiguousarray(images.detach().cpu().numpy(), dtype=np.float32)
        logits = self.session.run([self.output_name], {self.input_name: array})[0]
        return torch.from_numpy(logits)
