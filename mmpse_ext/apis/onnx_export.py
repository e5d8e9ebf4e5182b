"""Export :class:`~mmpse_ext.apis.PSELogitsNetwork` to ONNX and check it against PyTorch.

The network (normalisation + backbone + neck + head) is exported with torch's
``torch.export``-based exporter (``torch.onnx.export(..., dynamo=True)``) with a dynamic batch
size and dynamic height and width, both multiples of 32 (the backbone's stride, so every
pyramid level has an exact size). Post-processing is not a graph: it stays in the ``pse_ext``
op, fed by the ONNX Runtime outputs (:class:`~mmpse_ext.apis.PSEDetector`).
"""
from typing import NamedTuple, Sequence

import numpy as np
import torch

from .logits_network import PSELogitsNetwork

INPUT_NAME, OUTPUT_NAME = 'images', 'logits'
SIZE_MULTIPLE = 32
# torch.export specialises dimensions of size 0 or 1, so the example batch has 2 images.
EXAMPLE_SHAPE = (2, 3, 256, 384)


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


def export_onnx(network: PSELogitsNetwork, out_file: str,
                example_shape: Sequence[int] = EXAMPLE_SHAPE) -> None:
    """Write ``network`` to ``out_file`` with dynamic batch, height and width.

    Args:
        network (PSELogitsNetwork): in eval mode, on the CPU.
        out_file (str): the ``.onnx`` path (written in one piece).
        example_shape (Sequence[int]): ``(N, 3, H, W)`` of the tracing input; N >= 2, H and W
            multiples of 32 (the exported graph accepts any such shape).

    Raises:
        ValueError: ``example_shape`` or the model's padding rule does not fit the export.
        ImportError: onnx or onnxscript (needed by torch's exporter) is missing.
    """
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise ImportError('ONNX export needs the onnx and onnxscript packages '
                          '(.dev_scripts/setup_env.sh installs them)') from error
    batch, channels, height, width = example_shape
    if batch < 2 or channels != 3 or height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
        raise ValueError(f'example_shape must be (N >= 2, 3, H, W) with H, W multiples of '
                         f'{SIZE_MULTIPLE}, got {tuple(example_shape)}')
    divisor = network.normalisation.size_divisor
    if divisor % SIZE_MULTIPLE:
        raise ValueError(
            f"the model's data_preprocessor pads to multiples of {divisor}; the exported graph "
            f'needs multiples of {SIZE_MULTIPLE}: set pad_size_divisor=32 (or a multiple)')
    Dim = torch.export.Dim
    dynamic_shapes = {
        INPUT_NAME: {
            0: Dim('batch', min=1, max=1024),
            2: SIZE_MULTIPLE * Dim('height_in_32px', min=1, max=1024),
            3: SIZE_MULTIPLE * Dim('width_in_32px', min=1, max=1024),
        }
    }
    example = torch.rand(*example_shape, generator=torch.Generator().manual_seed(0)) * 255
    network = network.eval()
    torch.onnx.export(
        network, (example, ), out_file, dynamo=True, input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME], dynamic_shapes=dynamic_shapes, external_data=False)


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
