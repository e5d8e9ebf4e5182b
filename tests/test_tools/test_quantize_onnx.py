"""tools/model_converters/quantize_onnx.py: bad input gives one line naming the problem and
exit code 1 (the script's main() returns it instead of raising). The models are tiny graphs
built with onnx's helpers."""
import os.path as osp

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'pse_r18_synthetic_demo.py')


def conv_model(path, quantized=False):
    """images [N, 3, H, W] -> one 3x3 convolution (or a QuantizeLinear) -> logits."""
    weight = numpy_helper.from_array(np.ones((7, 3, 3, 3), np.float32), 'w')
    if quantized:
        scale = numpy_helper.from_array(np.array(0.1, np.float32), 's')
        nodes = [helper.make_node('QuantizeLinear', ['images', 's'], ['logits'])]
        inits = [scale]
        out_type = TensorProto.UINT8
    else:
        nodes = [helper.make_node('Conv', ['images', 'w'], ['logits'], pads=[1, 1, 1, 1])]
        inits = [weight]
        out_type = TensorProto.FLOAT
    graph = helper.make_graph(nodes, 'g', [
        helper.make_tensor_value_info('images', TensorProto.FLOAT, ['N', 3, 'H', 'W'])
    ], [helper.make_tensor_value_info('logits', out_type, None)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)]), path)
    return str(path)


@pytest.fixture
def files(tmp_path):
    empty = tmp_path / 'no_images'
    empty.mkdir()
    (empty / 'notes.txt').write_text('not an image')
    unreadable = tmp_path / 'unreadable'
    unreadable.mkdir()
    (unreadable / 'photo.png').write_text('notes saved as a picture')
    not_onnx = tmp_path / 'weights.onnx'
    not_onnx.write_bytes(b'\x00not a protobuf\xff' * 10)
    cv2.imwrite(str(tmp_path / 'calib.png'), np.full((64, 96, 3), 127, np.uint8))
    return dict(
        float=conv_model(tmp_path / 'float.onnx'),
        quantized=conv_model(tmp_path / 'int8.onnx', quantized=True),
        not_onnx=str(not_onnx),
        empty=str(empty),
        unreadable=str(unreadable),
        images=str(tmp_path / 'calib.png'),
        out=str(tmp_path / 'out.onnx'))


@pytest.mark.parametrize('case, expected', [
    ('missing_config', "config 'nope.py' does not exist"),
    ('missing_model', "ONNX file 'missing.onnx' does not exist"),
    ('not_onnx', 'weights.onnx is not an ONNX model'),
    ('quantized', 'int8.onnx is already quantized (it has QuantizeLinear nodes)'),
    ('no_images', 'is not an image, a folder with images or a glob pattern'),
    ('unreadable', 'none of the 1 images can be read'),
    ('bad_out', "should end with .onnx"),
])
def test_bad_input_is_one_line_and_exit_1(case, expected, files, load_tool, capsys):
    config, model, calib, out = CONFIG, files['float'], [files['images']], files['out']
    if case == 'missing_config':
        config = 'nope.py'
    elif case == 'missing_model':
        model = 'missing.onnx'
    elif case in ('not_onnx', 'quantized'):
        model = files[case]
    elif case == 'no_images':
        calib = [files['empty']]
    elif case == 'unreadable':
        calib = [files['unreadable']]
    else:
        out = files['out'][:-5] + '.bin'
    tool = load_tool('model_converters/quantize_onnx')
    assert tool.main([config, model, out, '--calib', *calib]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith('ERROR: ') and expected in lines[0], err
    assert not osp.exists(out)
