"""Inference outside the training code: one detector API over PyTorch and ONNX Runtime, and
the ONNX export (docs/deploy.md)."""
from .backends import OnnxRuntimeLogitsBackend, TorchLogitsBackend
from .image_inputs import IMAGE_EXTENSIONS, collect_images, relative_names
from .logits_network import InputNormalisation, PSELogitsNetwork
from .model_loading import load_config, load_model
from .onnx_export import ParityReport, check_onnx_graph, compare_with_pytorch, export_onnx
from .pse_detector import Batch, Detection, PSEDetector, inference_pipelines

__all__ = [
    'Batch', 'Detection', 'IMAGE_EXTENSIONS', 'InputNormalisation', 'OnnxRuntimeLogitsBackend',
    'PSEDetector', 'PSELogitsNetwork', 'ParityReport', 'TorchLogitsBackend', 'check_onnx_graph',
    'collect_images', 'compare_with_pytorch', 'export_onnx', 'inference_pipelines',
    'load_config', 'load_model', 'relative_names'
]
