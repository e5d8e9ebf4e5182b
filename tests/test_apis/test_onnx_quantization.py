"""int8 quantization of the session's exported model: the result is a QDQ model whose chosen
convolutions stay float, and through PSEDetector its logits and words stay close to the float
model's (ONNX Runtime float32 as the reference)."""
import glob
import os.path as osp

import numpy as np
import onnx
import pytest
from polygon_agreement import matched_ious

from mmpse_ext.apis import PSEDetector, quantize_onnx


@pytest.fixture(scope='module')
def int8_model(exported_model, synthetic_root, tmp_path_factory):
    """(config, float onnx, int8 onnx, report); calibrated on 3 training images."""
    config, _, onnx_file, _ = exported_model
    out = str(tmp_path_factory.mktemp('int8') / 'parity_int8.onnx')
    train_images = sorted(glob.glob(osp.join(synthetic_root, 'ch4_training_images', '*.jpg')))
    report = quantize_onnx(config, onnx_file, out, train_images[:3])
    return config, onnx_file, out, report


@pytest.mark.slow
def test_quantized_graph_keeps_the_chosen_convolutions_float(int8_model):
    _, onnx_file, out, report = int8_model
    assert report.num_calib_images == 3
    float_model, model = onnx.load(onnx_file), onnx.load(out)
    convs = [n for n in float_model.graph.node if n.op_type == 'Conv']
    assert len(report.float_nodes) == 2 and report.num_quantized_convs == len(convs) - 2
    producers = {output: node for node in model.graph.node for output in node.output}
    initializers = {init.name: init for init in model.graph.initializer}

    def weight_is_int8(conv):
        weight = conv.input[1]
        if weight in producers and producers[weight].op_type == 'DequantizeLinear':
            return initializers[producers[weight].input[0]].data_type == onnx.TensorProto.INT8
        return False

    quantized_convs = [n for n in model.graph.node if n.op_type == 'Conv']
    assert len(quantized_convs) == len(convs)
    kept = {n.name for n in quantized_convs if not weight_is_int8(n)}
    assert kept == set(report.float_nodes)
    # the kept ones are the first convolution and the one that writes the logits
    assert quantized_convs[0].name in kept and quantized_convs[-1].name in kept


@pytest.mark.slow
def test_int8_logits_and_words_stay_close_to_float(int8_model, synthetic_root):
    config, onnx_file, out, _ = int8_model
    images = sorted(glob.glob(osp.join(synthetic_root, 'ch4_test_images', '*.jpg')))
    reference = PSEDetector(config, onnx_file, backend='onnxruntime', device='cpu')
    int8 = PSEDetector(config, out, backend='onnxruntime', device='cpu')
    for batch in reference.batches(images):
        expected, got = reference.backend(batch.images), int8.backend(batch.images)
        scale = expected.abs().max().item()
        difference = (got - expected).abs()
        assert difference.max().item() > 0  # it is a different model
        assert difference.mean().item() <= 0.015 * scale, (difference.mean().item(), scale)
    total = matched = 0
    ious = []
    for want, got in zip(reference(images), int8(images)):
        pair_ious = matched_ious(want.polygons, got.polygons)
        total += len(want.polygons)
        matched += len(pair_ious)
        ious += pair_ious
    assert total >= 3
    assert matched >= total - 1
    assert np.mean(ious) >= 0.8  # measured 0.91


@pytest.mark.slow
def test_infer_tool_runs_the_int8_model(int8_model, synthetic_root, python_tool, tmp_path):
    config, _, out, _ = int8_model
    result = python_tool([
        'tools/infer.py',
        osp.join(synthetic_root, 'ch4_test_images'), '--config', config, '--checkpoint', out,
        '--out-dir',
        str(tmp_path), '--no-vis'
    ])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1].startswith('4 images, ')
    assert len(glob.glob(str(tmp_path / 'preds' / '*.json'))) == 4
