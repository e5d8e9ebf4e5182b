"""The exported graph (tools/model_converters/export_onnx.py on the session's trained model): it
passes onnx's checker, its batch, height and width are symbolic, and ONNX Runtime follows
PyTorch on shapes other than the traced one."""
import os.path as osp
import re

import pytest
import torch

from mmpse_ext.apis import (OnnxRuntimeLogitsBackend, PSELogitsNetwork, compare_with_pytorch,
                            export_onnx, load_config, load_model)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'pse_r18_synthetic_demo.py')


@pytest.fixture(scope='module')
def network(exported_model):
    config, checkpoint, _, _ = exported_model
    return PSELogitsNetwork(load_model(load_config(config), checkpoint, 'cpu'))


@pytest.mark.slow
def test_export_tool_reports_its_checks(exported_model):
    _, _, _, stdout = exported_model
    line = stdout.strip().splitlines()[-1]
    match = re.search(
        r'onnx checker OK; ONNX Runtime vs PyTorch on \[1, 3, 320, 544\]: '
        r'max \|diff\| ([\d.e+-]+)', line)
    assert match, line
    assert float(match.group(1)) <= 1e-4


@pytest.mark.slow
def test_graph_is_valid_with_dynamic_batch_height_width(exported_model):
    import onnx
    _, _, onnx_file, _ = exported_model
    model = onnx.load(onnx_file)
    onnx.checker.check_model(model, full_check=True)
    (graph_input, ) = model.graph.input
    (graph_output, ) = model.graph.output
    assert (graph_input.name, graph_output.name) == ('images', 'logits')
    input_dims = graph_input.type.tensor_type.shape.dim
    assert [bool(d.dim_param) for d in input_dims] == [True, False, True, True]
    assert input_dims[1].dim_value == 3
    output_dims = graph_output.type.tensor_type.shape.dim
    assert output_dims[1].dim_value == 7 and output_dims[0].dim_param == input_dims[0].dim_param


@pytest.mark.slow
@pytest.mark.parametrize('shape', [(3, 3, 64, 96), (1, 3, 416, 224), (2, 3, 320, 320)])
def test_onnxruntime_follows_pytorch_on_other_shapes(exported_model, network, shape):
    _, _, onnx_file, _ = exported_model
    report = compare_with_pytorch(network, onnx_file, shape)
    assert report.shape == shape
    assert report.max_abs_diff <= 1e-4
    assert report.max_abs_logit > 0.1  # the comparison is not between two zero maps
    logits = OnnxRuntimeLogitsBackend(onnx_file, 'cpu', num_threads=1)(torch.zeros(shape))
    assert logits.shape == (shape[0], 7, shape[2] // 4, shape[3] // 4)


def test_export_refuses_shapes_it_cannot_trace(tmp_path):
    from mmocr.registry import MODELS
    cfg = load_config(DEMO_CONFIG)
    network = PSELogitsNetwork(MODELS.build(cfg.model).eval())
    for shape in [(1, 3, 64, 64), (2, 3, 70, 64), (2, 1, 64, 64)]:
        with pytest.raises(ValueError, match='example_shape must be'):
            export_onnx(network, str(tmp_path / 'x.onnx'), example_shape=shape)
    assert not (tmp_path / 'x.onnx').exists()
