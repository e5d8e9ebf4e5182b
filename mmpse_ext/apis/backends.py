"""Two ways to run :class:`~mmpse_ext.apis.PSELogitsNetwork`: eager PyTorch or ONNX Runtime.

Both take the same padded raw-pixel batch and return the same logits, so everything around
them (pipeline, batching, post-processing) is shared by :class:`~mmpse_ext.apis.PSEDetector`.
"""
import os.path as osp
from typing import Optional, Union

import numpy as np
import torch
from torch import Tensor

from .checkpoint_reading import CheckpointError
from .logits_network import PSELogitsNetwork


class TorchLogitsBackend:
    """Runs the network in eager PyTorch (``torch.inference_mode``) on ``device``.

    Args:
        network (PSELogitsNetwork): the network, in eval mode.
        device (str | torch.device): where it runs; logits stay there, so the post-processor
            takes its CUDA path on a GPU.
    """

    name = 'pytorch'

    def __init__(self, network: PSELogitsNetwork, device: Union[str, torch.device]) -> None:
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()

    def __call__(self, images: Tensor) -> Tensor:
        """``[N, 3, H, W]`` float32 raw pixels (CPU) → ``[N, K, H/4, W/4]`` logits on ``device``."""
        with torch.inference_mode():
            return self.network(images.to(self.device, non_blocking=True))


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

    def __init__(self, onnx_file: str, device: Union[str, torch.device] = 'cpu',
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
            self.session = ort.InferenceSession(onnx_file, sess_options=options,
                                                providers=providers)
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
