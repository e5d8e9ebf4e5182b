"""ONNX export with torch's TorchScript exporter, the one torch < 2.6 gets (no dynamo exporter):
the graph has dynamic batch, height and width, and ONNX Runtime follows PyTorch on shapes other
than the traced one, as with the dynamo exporter (tests/test_apis/test_onnx_export.py)."""
import inspect
import os.path as osp

import pytest
import torch

from mmpse_ext.apis import PSELogitsNetwork, compare_with_pytorch, export_onnx, load_config
from mmpse_ext.apis.onnx_export import default_exporter

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'pse_r18_synthetic_demo.py')

pytest.importorskip('onnxruntime', reason='onnxruntime is not installed')


def _has_torchscript_exporter() -> bool:
    parameters = inspect.signature(torch.onnx.export).parameters
    return 'dynamo' not in parameters or 'dynamic_axes' in parameters


@pytest.fixture(scope='module')
def small_network():
    """The demo model at 8 px base width, random weights (non-trivial logits), eval mode."""
    from mmocr.registry import MODELS
    cfg = load_config(DEMO_CONFIG)
    cfg.model.backbone.update(base_channels=8, stem_channels=8)
    cfg.model.neck.update(in_channels=[8, 16, 32, 64], out_channels=16)
    cfg.model.det_head.update(in_channels=64, hidden_dim=16)
    torch.manual_seed(0)
    return PSELogitsNetwork(MODELS.build(cfg.model).eval())


@pytest.mark.skipif(
    not _has_torchscript_exporter(),
    reason=f'torch {torch.__version__} has no TorchScript ONNX exporter')
def test_torchscript_export_follows_pytorch_on_other_shapes(small_network, tmp_path):
    import onnx
    onnx_file = str(tmp_path / 'pse_torchscript.onnx')
    assert export_onnx(
        small_network, onnx_file, example_shape=(2, 3, 128, 192),
        exporter='torchscript') == 'torchscript'
    model = onnx.load(onnx_file)
    onnx.checker.check_model(model, full_check=True)
    [graph_input] = model.graph.input
    dims = graph_input.type.tensor_type.shape.dim
    assert [bool(d.dim_param) for d in dims] == [True, False, True, True]
    for shape in [(1, 3, 96, 160), (3, 3, 64, 64)]:
        report = compare_with_pytorch(small_network, onnx_file, shape)
        assert report.max_abs_logit > 0.1  # not two zero maps
        assert report.max_abs_diff <= 1e-4 * max(1.0, report.max_abs_logit), report


def test_default_exporter_is_dynamo_from_torch_2_6_and_torchscript_before_2_5():
    version = tuple(int(part) for part in torch.__version__.split('+')[0].split('.')[:2])
    if version >= (2, 6):
        assert default_exporter() == 'dynamo'
    elif version < (2, 5):
        assert default_exporter() == 'torchscript'
    else:
        pytest.skip(f'torch {torch.__version__}: either exporter, by the arguments it takes')


def test_unknown_exporter_is_refused(small_network, tmp_path):
    with pytest.raises(ValueError, match="exporter must be one of"):
        export_onnx(small_network, str(tmp_path / 'x.onnx'), exporter='tflite')
