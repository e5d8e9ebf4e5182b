"""tools/model_converters/export_onnx.py: one-line errors and exit code 1 on bad input. (The
successful export of a trained model, its checks and its parity are tested in tests/test_apis,
which export with this tool.)"""
import os.path as osp

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'pse_r18_synthetic_demo.py')


@pytest.fixture(scope='module')
def export_tool(load_tool):
    return load_tool('model_converters/export_onnx')


def run(tool, capsys, *argv):
    code = tool.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err, *fragments):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith('ERROR: '), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_missing_checkpoint_and_config(export_tool, capsys, tmp_path):
    code, out, err = run(export_tool, capsys, DEMO_CONFIG, str(tmp_path / 'absent.pth'),
                         str(tmp_path / 'x.onnx'))
    assert code == 1 and not (tmp_path / 'x.onnx').exists()
    assert_one_line_error(err, 'absent.pth', 'does not exist')
    code, out, err = run(export_tool, capsys, str(tmp_path / 'nope.py'),
                         str(tmp_path / 'absent.pth'), str(tmp_path / 'x.onnx'))
    assert code == 1
    assert_one_line_error(err, 'nope.py', 'does not exist')


def test_output_must_be_an_onnx_file(export_tool, capsys, tmp_path):
    code, out, err = run(export_tool, capsys, DEMO_CONFIG, 'whatever.pth',
                         str(tmp_path / 'model.pth'))
    assert code == 1
    assert_one_line_error(err, 'model.pth', '.onnx')


def test_weights_of_another_model_are_refused(export_tool, capsys, tmp_path):
    torch.save({'backbone.conv1.weight': torch.zeros(1)}, tmp_path / 'other.pth')
    code, out, err = run(export_tool, capsys, DEMO_CONFIG, str(tmp_path / 'other.pth'),
                         str(tmp_path / 'x.onnx'))
    assert code == 1 and not (tmp_path / 'x.onnx').exists()
    assert_one_line_error(err, 'other.pth', 'does not match the model', 'missing keys')
