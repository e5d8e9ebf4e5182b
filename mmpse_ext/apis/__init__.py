"""Entry points above the library: one detector API over PyTorch and ONNX Runtime, the ONNX
export and its int8 quantization (docs/deploy.md), and the Runner start shared by
``tools/train.py`` / ``tools/test.py``."""
from .backends import OnnxRuntimeLogitsBackend, TorchLogitsBackend
from .checkpoint_reading import CheckpointError, read_checkpoint
from .image_inputs import IMAGE_EXTENSIONS, collect_images, relative_names
from .logits_network import InputNormalisation, PSELogitsNetwork
from .model_loading import ConfigError, load_config, load_model
from .onnx_export import ParityReport, check_onnx_graph, compare_with_pytorch, export_onnx
from .onnx_quantization import QuantizationReport, quantize_onnx
from .pse_detector import Batch, Detection, PSEDetector, inference_pipelines
from .tool_runner import build_tool_runner
from .unreadable_images import UnreadableImageError, unreadable_reason

__all__ = [
    'Batch', 'Detection', 'IMAGE_EXTENSIONS', 'InputNormalisation', 'OnnxRuntimeLogitsBackend',
    'CheckpointError', 'ConfigError', 'PSEDetector', 'PSELogitsNetwork', 'ParityReport',
    'QuantizationReport', 'TorchLogitsBackend', 'UnreadableImageError', 'build_tool_runner',
    'check_onnx_graph', 'collect_images', 'compare_with_pytorch', 'export_onnx',
    'inference_pipelines', 'load_config', 'load_model', 'quantize_onnx', 'read_checkpoint',
    'relative_names', 'unreadable_reason'
]
