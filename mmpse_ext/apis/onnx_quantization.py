"""int8 static quantization of an exported network with ONNX Runtime, calibrated on the user's
own images run through the config's test pipeline (docs/deploy.md, "int8").

The result is a QDQ model (QuantizeLinear/DequantizeLinear pairs around the quantized
operators; ONNX Runtime's CPU provider fuses them into integer kernels): activations uint8 with
one scale per tensor, convolution weights int8 with one scale per output channel. A few
convolutions stay float (:data:`~mmpse_ext.engine.DEFAULT_KEEP_FLOAT`, as at bfloat16), chosen
by measurement: the first one sees raw normalised pixels, the last one writes the logits that
the post-processor thresholds.
"""
import logging
import os.path as osp
from typing import Callable, List, NamedTuple, Optional, Sequence

import numpy as np

from mmpse_ext.engine.float32_convs import DEFAULT_KEEP_FLOAT, KEEP_FLOAT_CHOICES, check_keep_float
from .image_inputs import collect_images
from .unreadable_images import UnreadableImageError

#: Operators that only a quantized model contains.
QUANTIZED_OP_TYPES = frozenset({
    'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'QLinearConv', 'ConvInteger',
    'MatMulInteger', 'QLinearMatMul', 'QLinearAdd', 'QLinearConcat'
})
#: Calibration images used at most by default (docs/deploy.md).
DEFAULT_MAX_CALIB_IMAGES = 8


class QuantizationReport(NamedTuple):
    """What :func:`quantize_onnx` did.

    Attributes:
        out_file (str): the written model.
        num_calib_images (int): images the activation ranges were collected on.
        float_nodes (list[str]): convolutions kept in float.
        num_quantized_convs (int): convolutions with int8 weights.
        skipped (list[UnreadableImageError]): calibration files that could not be read.
    """
    out_file: str
    num_calib_images: int
    float_nodes: List[str]
    num_quantized_convs: int
    skipped: list


def load_float_model(onnx_file: str):
    """Load and check a float ONNX model for quantization.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: it is not an ONNX model, or it is already quantized.
    """
    import onnx
    if not osp.isfile(onnx_file):
        raise FileNotFoundError(f'ONNX file {onnx_file!r} does not exist')
    try:
        model = onnx.load(onnx_file)
    except Exception as error:  # protobuf's DecodeError and friends
        raise ValueError(f'{onnx_file} is not an ONNX model ({type(error).__name__})') from None
    if not model.graph.node:
        raise ValueError(f'{onnx_file} is not an ONNX model (no graph nodes)')
    quantized = sorted({n.op_type for n in model.graph.node} & QUANTIZED_OP_TYPES)
    if quantized:
        raise ValueError(f'{onnx_file} is already quantized (it has {", ".join(quantized)} '
                         'nodes); quantize the float export of tools/model_converters/'
                         'export_onnx.py')
    return model


def float_conv_nodes(model, keep_float: Sequence[str]) -> List[str]:
    """Names of the convolutions to keep float: ``'first_conv'`` is the first Conv in the
    (topologically sorted) graph, ``'last_conv'`` the last Conv before the graph's output."""
    check_keep_float(keep_float)
    convs = [node for node in model.graph.node if node.op_type == 'Conv']
    if not convs:
        raise ValueError('the model has no Conv node: not an exported PSENet?')
    for index, node in enumerate(convs):
        if not node.name:  # the quantizer refers to nodes by name
            node.name = f'mmpse_conv_{index}'
    chosen = dict(first_conv=convs[0].name, last_conv=convs[-1].name)
    return [chosen[key] for key in KEEP_FLOAT_CHOICES if key in keep_float]


class CalibrationImages:
    """ONNX Runtime calibration data: each image through the config's test pipeline, padded as
    the detector pads it, one ``[1, 3, H, W]`` float32 batch at a time (sizes may differ).
    Files the image loader cannot read are skipped and kept in :attr:`skipped`.

    Args:
        detector (PSEDetector): gives the pipeline and the padding (its backend is not run).
        images (Sequence[str]): image files.
        input_name (str): the model's input name.
        progress (callable, optional): called with ``(done, total)`` after each image.
    """

    def __init__(self,
                 detector,
                 images: Sequence[str],
                 input_name: str,
                 progress: Optional[Callable[[int, int], None]] = None) -> None:
        self.detector = detector
        self.images = list(images)
        self.input_name = input_name
        self.progress = progress
        self.position = 0
        self.skipped: List[UnreadableImageError] = []

    def get_next(self) -> Optional[dict]:
        while self.position < len(self.images):
            path = self.images[self.position]
            self.position += 1
            if self.progress is not None:
                self.progress(self.position, len(self.images))
            try:
                image, _, _ = self.detector.prepare(path, self.position - 1)
            except UnreadableImageError as error:
                self.skipped.append(error)
                continue
            return {self.input_name: np.ascontiguousarray(image[None].numpy(), np.float32)}
        return None

    def rewind(self) -> None:
        self.position = 0
        self.skipped = []


def calibration_images(calib: Sequence[str], max_images: Optional[int]) -> List[str]:
    """Image files of ``calib`` (files, folders, globs), evenly subsampled to ``max_images``.

    Raises:
        FileNotFoundError: no image found.
    """
    try:
        images = collect_images(list(calib))
    except FileNotFoundError as error:
        raise FileNotFoundError(f'--calib: {error}') from None
    if max_images is not None and len(images) > max_images:
        picks = np.linspace(0, len(images) - 1, max_images).round().astype(int)
        images = [images[i] for i in sorted(set(picks.tolist()))]
    return images


def _readable(detector, path: str, skipped: list) -> bool:
    """Whether the config's image loader reads ``path``; if not, its error goes to ``skipped``."""
    try:
        detector.load_image(path)
    except UnreadableImageError as error:
        skipped.append(error)
        return False
    return True


def quantize_onnx(config,
                  onnx_file: str,
                  out_file: str,
                  calib: Sequence[str],
                  keep_float: Sequence[str] = DEFAULT_KEEP_FLOAT,
                  max_images: Optional[int] = DEFAULT_MAX_CALIB_IMAGES,
                  progress: Optional[Callable[[int, int], None]] = None) -> QuantizationReport:
    """Write an int8 QDQ version of ``onnx_file`` to ``out_file``.

    Args:
        config (str | Config): the model's config (test pipeline, padding).
        onnx_file (str): a float model from ``tools/model_converters/export_onnx.py``.
        out_file (str): where the int8 model goes (``.onnx``).
        calib (Sequence[str]): calibration image files, folders or glob patterns: images like
            the ones the model will see (min/max activation ranges are taken over them).
        keep_float (Sequence[str]): convolutions left float, from :data:`KEEP_FLOAT_CHOICES`.
        max_images (int, optional): use at most this many calibration images (evenly spread
            over the sorted list); ``None``: all.
        progress (callable, optional): ``progress(done, total)`` after each calibration image.

    Raises:
        FileNotFoundError: a missing model or config, or no (readable) calibration image.
        ValueError: a non-ONNX or already quantized model, or a bad ``keep_float``.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    from .pse_detector import PSEDetector
    if not str(out_file).endswith('.onnx'):
        raise ValueError(f'output {out_file!r} should end with .onnx')
    model = load_float_model(onnx_file)
    images = calibration_images(calib, max_images)
    float_nodes = float_conv_nodes(model, keep_float)
    detector = PSEDetector(config, onnx_file, backend='onnxruntime', device='cpu')
    skipped: List[UnreadableImageError] = []
    readable = [path for path in images if _readable(detector, path, skipped)]
    if not readable:
        raise FileNotFoundError(f'--calib: none of the {len(images)} images can be read '
                                f'({skipped[0]})')
    reader = CalibrationImages(detector, readable, detector.backend.input_name, progress)
    # ONNX Runtime advises its pre-processing (shape inference, graph optimisation) on the root
    # logger; torch's exporter has already optimised the graph and shapes are known.
    root_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)
    try:
        quantize_static(
            model,
            out_file,
            reader,
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            # MinMax keeps each tensor's min and max per image (ReduceMin/ReduceMax outputs),
            # so images of different sizes can be mixed (ONNX Runtime's histogram methods cannot)
            nodes_to_exclude=float_nodes,
            calibrate_method=CalibrationMethod.MinMax)
    finally:
        logging.getLogger().setLevel(root_level)
    num_convs = sum(node.op_type == 'Conv' for node in model.graph.node)
    return QuantizationReport(out_file, len(readable), float_nodes, num_convs - len(float_nodes),
                              skipped + reader.skipped)
