"""Export :class:`~mmpse_ext.apis.PSELogitsNetwork` to ONNX and check it against PyTorch.

The network (normalisation + backbone + neck + head) is exported with torch's
``torch.export``-based exporter (``torch.onnx.export(..., dynamo=True)``) with a dynamic batch
size and dynamic height and width, both multiples of 32 (the backbone's stride, so every
pyramid level has an exact size). A torch whose ``torch.onnx.export`` has no ``dynamo``,
``dynamic_shapes`` and ``external_data`` arguments (before 2.6) gets torch's TorchScript exporter
instead, with the same dynamic axes (``dynamic_axes``, opset 17); the ONNX Runtime check below
holds for either. That exporter cannot give a ceil-mode pooling a dynamic input size (ResNet-vd's
shortcut ``AvgPool2d(2, 2, ceil_mode=True)``); such pools, whose window equals their stride and
which have no padding, are exported in floor mode, which is the same operation on the even sizes
they see (H and W are multiples of 32, the pools sit at strides 4 to 16). Post-processing is not
a graph: it stays in the ``pse_ext`` op, fed by the ONNX Runtime outputs
(:class:`~mmpse_ext.apis.PSEDetector`).
"""
import contextlib
import inspect
from typing import NamedTuple, Optional, Sequence

import numpy as np
import torch
from torch.nn.modules.utils import _pair

from .logits_network import PSELogitsNetwork

INPUT_NAME, OUTPUT_NAME = 'images', 'logits'
SIZE_MULTIPLE = 32
# torch.export specialises dimensions of size 0 or 1, so the example batch has 2 images.
EXAMPLE_SHAPE = (2, 3, 256, 384)
# The opset of the TorchScript exporter (torch < 2.6); torch 2.0 supports up to 18.
TORCHSCRIPT_OPSET = 17
EXPORTERS = ('dynamo', 'torchscript')


def default_exporter() -> str:
    """``'dynamo'`` where ``torch.onnx.export`` takes ``dynamo``, ``dynamic_shapes`` and
    ``external_data`` (torch >= 2.6), else ``'torchscript'``."""
    if {'dynamo', 'dynamic_shapes', 'external_data'} <= _export_parameters():
        return 'dynamo'
    return 'torchscript'


def _export_parameters() -> set:
    return set(inspect.signature(torch.onnx.export).parameters)


class ParityReport(NamedTuple):
    """ONNX Runtime against PyTorch on one input.

    Attributes:
        shape (tuple[int, ...]): the input's shape.
        max_abs_diff (float): largest ``|logit_onnx - logit_torch|``.
        max_abs_logit (float): largest ``|logit_torch|`` (the scale of the difference).
    """
    shape: tuple
    max_abs_diff: float
    max_abs_logit: float


def export_onnx(network: PSELogitsNetwork,
                out_file: str,
                example_shape: Sequence[int] = EXAMPLE_SHAPE,
                exporter: Optional[str] = None) -> str:
    """Write ``network`` to ``out_file`` with dynamic batch, height and width.

    Args:
        network (PSELogitsNetwork): in eval mode, on the CPU.
        out_file (str): the ``.onnx`` path (written in one piece).
        example_shape (Sequence[int]): ``(N, 3, H, W)`` of the tracing input; N >= 2, H and W
            multiples of 32 (the exported graph accepts any such shape).
        exporter (str, optional): ``'dynamo'`` or ``'torchscript'``; default
            :func:`default_exporter` (dynamo where this torch has it).

    Returns:
        str: the exporter used.

    Raises:
        ValueError: ``example_shape``, ``exporter`` or the model's padding rule does not fit.
        ImportError: onnx, or onnxscript (needed by the dynamo exporter), is missing.
    """
    exporter = exporter or default_exporter()
    if exporter not in EXPORTERS:
        raise ValueError(f'exporter must be one of {EXPORTERS}, got {exporter!r}')
    try:
        import onnx  # noqa: F401
        if exporter == 'dynamo':
            import onnxscript  # noqa: F401
    except ImportError as error:
        raise ImportError(f'ONNX export ({exporter} exporter) needs the onnx'
                          f'{" and onnxscript packages" if exporter == "dynamo" else " package"}'
                          ' (.dev_scripts/setup_env.sh installs them)') from error
    batch, channels, height, width = example_shape
    if batch < 2 or channels != 3 or height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
        raise ValueError(f'example_shape must be (N >= 2, 3, H, W) with H, W multiples of '
                         f'{SIZE_MULTIPLE}, got {tuple(example_shape)}')
    divisor = network.normalisation.size_divisor
    if divisor % SIZE_MULTIPLE:
        raise ValueError(
            f"the model's data_preprocessor pads to multiples of {divisor}; the exported graph "
            f'needs multiples of {SIZE_MULTIPLE}: set pad_size_divisor=32 (or a multiple)')
    example = torch.rand(*example_shape, generator=torch.Generator().manual_seed(0)) * 255
    network = network.eval()
    if exporter == 'torchscript':
        with _floor_mode_pooling(network):
            torch.onnx.export(
                network, (example, ),
                out_file,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                opset_version=TORCHSCRIPT_OPSET,
                do_constant_folding=True,
                dynamic_axes={
                    INPUT_NAME: {
                        0: 'batch',
                        2: 'height',
                        3: 'width'
                    },
                    OUTPUT_NAME: {
                        0: 'batch',
                        2: 'logit_height',
                        3: 'logit_width'
                    }
                },
                **({
                    'dynamo': False
                } if 'dynamo' in _export_parameters() else {}))
        return exporter
    Dim = torch.export.Dim
    dynamic_shapes = {
        INPUT_NAME: {
            0: Dim('batch', min=1, max=1024),
            2: SIZE_MULTIPLE * Dim('height_in_32px', min=1, max=1024),
            3: SIZE_MULTIPLE * Dim('width_in_32px', min=1, max=1024),
        }
    }
    torch.onnx.export(
        network, (example, ),
        out_file,
        dynamo=True,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_shapes=dynamic_shapes,
        external_data=False)
    return exporter


@contextlib.contextmanager
def _floor_mode_pooling(network: torch.nn.Module):
    """Within the block, 2D pools with ``ceil_mode=True``, window = stride and no padding run in
    floor mode (identical on sizes divisible by the stride), for the TorchScript exporter."""
    changed = []
    for module in network.modules():
        if (isinstance(module, (torch.nn.AvgPool2d, torch.nn.MaxPool2d)) and module.ceil_mode
                and _pair(module.kernel_size) == _pair(module.stride or module.kernel_size)
                and _pair(module.padding) == (0, 0)):
            module.ceil_mode = False
            changed.append(module)
    try:
        yield
    finally:
        for module in changed:
            module.ceil_mode = True


def check_onnx_graph(onnx_file: str) -> None:
    """Run onnx's checker (with shape inference) on the file; raises what it raises."""
    import onnx
    onnx.checker.check_model(onnx_file, full_check=True)


def compare_with_pytorch(network: PSELogitsNetwork, onnx_file: str,
                         shape: Sequence[int]) -> ParityReport:
    """Run the ONNX file on ONNX Runtime (CPU) and ``network`` on the same random image.

    Args:
        network (PSELogitsNetwork): the exported network, eval mode, CPU.
        onnx_file (str): the exported file.
        shape (Sequence[int]): ``(N, 3, H, W)``; choose one other than the export example to
            check that the dimensions really are dynamic.

    Returns:
        ParityReport: the shape and the differences.

    Raises:
        RuntimeError: the output shapes differ.
    """
    from .backends import OnnxRuntimeLogitsBackend
    images = torch.rand(*shape, generator=torch.Generator().manual_seed(1)) * 255
    with torch.inference_mode():
        expected = network.eval()(images)
    got = OnnxRuntimeLogitsBackend(onnx_file, 'cpu')(images)
    if got.shape != expected.shape:
        raise RuntimeError(f'{onnx_file}: ONNX Runtime gives logits {list(got.shape)} for input '
                           f'{list(shape)}, PyTorch {list(expected.shape)}')
    difference = (got - expected).abs().max().item() if expected.numel() else 0.0
    scale = expected.abs().max().item() if expected.numel() else 0.0
    return ParityReport(tuple(shape), float(np.float64(difference)), float(scale))
