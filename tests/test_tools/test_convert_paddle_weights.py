"""tools/model_converters/convert_paddle_weights.py: good files convert and load, every bad input
ends with exit code 1 and one line on stderr that names the file and the problem (no traceback,
no output)."""
import importlib.util
import os
import pickle
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL_CONFIG = os.path.join(REPO, 'configs', '_base_', 'models', 'pse_r50vd_fpn.py')
TOOL = os.path.join(REPO, 'tools', 'model_converters', 'convert_paddle_weights.py')
ERROR_PREFIX = 'convert_paddle_weights: error: '


def _load_helper():
    """The Paddle-named weight generator shared with tests/test_utils/test_paddle_weights.py."""
    path = os.path.join(REPO, 'tests', 'test_utils', 'paddle_named_weights.py')
    spec = importlib.util.spec_from_file_location('paddle_named_weights', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


paddle_named = _load_helper()


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('model_converters/convert_paddle_weights')


@pytest.fixture(scope='module')
def detector_state():
    return paddle_named.paddle_det_r50_vd_pse(np.random.default_rng(7))


@pytest.fixture(scope='module')
def model():
    from mmocr.registry import MODELS

    import mmpse_ext  # noqa: F401
    init_default_scope('mmocr')
    return MODELS.build(Config.fromfile(MODEL_CONFIG).model)


def _the_error_line(capsys):
    """stderr of the last run: exactly one line, the tool's error, no traceback."""
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(ERROR_PREFIX) and 'Traceback' not in err
    return lines[0][len(ERROR_PREFIX):]


def _no_output_written(dst):
    return not os.path.exists(dst) and not os.path.exists(f'{dst}.part')


def test_detector_and_backbone_files_convert_and_load(tool, model, detector_state, tmp_path,
                                                      capsys):
    paddle_named.write_pdparams(tmp_path / 'det.pdparams', detector_state)
    assert tool.main([str(tmp_path / 'det.pdparams'), str(tmp_path / 'out' / 'det.pth')]) == 0
    assert 'missing targets: 0' in capsys.readouterr().out
    checkpoint = torch.load(tmp_path / 'out' / 'det.pth', weights_only=False)
    assert checkpoint['meta']['kind'] == 'detector' and checkpoint['meta']['missing'] == []
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    assert torch.equal(model.det_head.out_conv.bias,
                       torch.from_numpy(detector_state['head.conv2.bias']))
    assert not os.path.exists(tmp_path / 'out' / 'det.pth.part')

    # Backbone kind with the load_from prefix.
    imagenet = {
        k[len('backbone.'):]: v
        for k, v in detector_state.items() if k.startswith('backbone.')
    }
    paddle_named.write_pdparams(tmp_path / 'imagenet.pdparams', imagenet)
    assert tool.main(
        [str(tmp_path / 'imagenet.pdparams'),
         str(tmp_path / 'bb.pth'), '--backbone-prefix']) == 0
    keys = torch.load(tmp_path / 'bb.pth', weights_only=False)['state_dict'].keys()
    assert set(keys) == {f'backbone.{k}' for k in model.backbone.state_dict()}


def test_incomplete_checkpoint_is_refused_and_every_unfilled_target_reported(
        tool, model, detector_state, tmp_path, capsys):
    headless = {k: v for k, v in detector_state.items() if not k.startswith('head.')}
    paddle_named.write_pdparams(tmp_path / 'headless.pdparams', headless)
    dst = str(tmp_path / 'headless.pth')
    args = [str(tmp_path / 'headless.pdparams'), dst, '--kind', 'detector']
    assert tool.main(args) == 1
    captured = capsys.readouterr()
    head_targets = [
        f'det_head.{name}' for name in model.det_head.state_dict()
        if not name.endswith('num_batches_tracked')
    ]
    for target in head_targets:  # the report on stdout names every one of them
        assert f'  missing target: {target}\n' in captured.out
    error = captured.err.splitlines()
    assert len(error) == 1 and error[0].startswith(f'{ERROR_PREFIX}{args[0]}: ')
    assert f'{len(head_targets)} target(s) not filled' in error[0]
    assert _no_output_written(dst)

    assert tool.main(args + ['--allow-missing']) == 0
    written = torch.load(dst, weights_only=False)
    assert written['meta']['missing'] == head_targets


def _bytes_of(content):
    return content if isinstance(content, bytes) else pickle.dumps(content, protocol=4)


GOOD_PICKLE = pickle.dumps({'x.weight': np.ones((4, 4), np.float32)}, protocol=4)


@pytest.mark.parametrize(
    'content, problem', [
        (b'not a pickle at all\n', 'not a .pdparams file: it does not start like a pickle'),
        (b'', 'empty file (0 bytes)'),
        (GOOD_PICKLE[:40], 'truncated (40 bytes)'),
        ([('x.weight', np.ones(2))], 'expected a pickled dict of name -> ndarray, got list'),
        ({
            'epoch': 3
        }, "entry 'epoch' is of type int, not an array"),
    ],
    ids=['not-a-pickle', 'empty', 'truncated', 'list', 'not-name-to-array'])
def test_unreadable_source_files(tool, tmp_path, capsys, content, problem):
    src, dst = tmp_path / 'bad.pdparams', str(tmp_path / 'out.pth')
    src.write_bytes(_bytes_of(content))
    assert tool.main([str(src), dst]) == 1
    assert _the_error_line(capsys).startswith(f'{src}: {problem}')
    assert _no_output_written(dst)


def test_missing_source_a_directory_and_a_code_running_pickle(tool, tmp_path, capsys):
    dst = str(tmp_path / 'out.pth')
    assert tool.main([str(tmp_path / 'absent.pdparams'), dst]) == 1
    assert _the_error_line(capsys) == f'{tmp_path / "absent.pdparams"}: no such file'
    assert tool.main([str(tmp_path), dst]) == 1
    assert _the_error_line(capsys) == f'{tmp_path}: is a directory, expected a .pdparams file'

    # os.system, pickled by reference, is what a malicious file calls on load
    evil = b'\x80\x02cposix\nsystem\nX\x04\x00\x00\x00trueq\x00\x85q\x01Rq\x02.'
    (tmp_path / 'evil.pdparams').write_bytes(evil)
    assert tool.main([str(tmp_path / 'evil.pdparams'), dst]) == 1
    assert 'refused: the pickle refers to posix.system' in _the_error_line(capsys)
    assert _no_output_written(dst)


def test_tensors_of_the_wrong_shape_for_the_target_model(tool, detector_state, tmp_path, capsys):
    state = dict(detector_state)
    state['neck.smooth2_.conv.weight'] = np.zeros((256, 256, 1, 1), np.float32)
    paddle_named.write_pdparams(tmp_path / 'det.pdparams', state)
    dst = str(tmp_path / 'det.pth')
    assert tool.main([str(tmp_path / 'det.pdparams'), dst]) == 1
    line = _the_error_line(capsys)
    assert line.startswith(f'{tmp_path / "det.pdparams"}: Paddle detector conversion failed: ')
    assert ('1 shape mismatch(es): neck.smooth2_.conv.weight [256, 256, 1, 1] -> '
            'neck.smooth_convs.1.conv.weight [256, 256, 3, 3]') in line
    assert _no_output_written(dst)


def test_unwritable_output_paths(tool, detector_state, tmp_path, capsys, monkeypatch):
    src = str(tmp_path / 'det.pdparams')
    paddle_named.write_pdparams(src, detector_state)
    (tmp_path / 'a_file').write_text('x')

    assert tool.main([src, str(tmp_path)]) == 1  # a directory
    assert _the_error_line(capsys) == f'{tmp_path}: is a directory, expected the checkpoint ' \
        'file name'
    below_a_file = str(tmp_path / 'a_file' / 'sub' / 'det.pth')
    assert tool.main([src, below_a_file]) == 1
    assert _the_error_line(capsys) == f'{below_a_file}: cannot be created: ' \
        f'{tmp_path / "a_file"} is not a directory'
    assert tool.main([src, src]) == 1
    assert _the_error_line(capsys) == f'{src}: is the source file; refusing to overwrite it'

    # A write that fails half-way (disk full) leaves nothing behind.
    def disk_full(obj, path):
        with open(path, 'wb') as f:
            f.write(b'partial')
        raise RuntimeError('[enforce fail at inline_container.cc:595] . unexpected pos 64 vs 0')

    monkeypatch.setattr(tool.torch, 'save', disk_full)
    dst = str(tmp_path / 'det.pth')
    assert tool.main([src, dst]) == 1
    assert _the_error_line(capsys).startswith(f'{dst}: cannot write the checkpoint (RuntimeError: ')
    assert _no_output_written(dst)


def test_missing_config(tool, tmp_path, capsys):
    src = str(tmp_path / 'a.pdparams')
    paddle_named.write_pdparams(src, {'conv1_1._conv.weight': np.ones((32, 3, 3, 3), np.float32)})
    config = str(tmp_path / 'no_such_config.py')
    assert tool.main([src, str(tmp_path / 'a.pth'), '--config', config]) == 1
    assert _the_error_line(capsys) == f'{config}: no such config file'


def test_the_script_itself_exits_1_with_one_line(run_tool, tmp_path):
    (tmp_path / 'text.pdparams').write_text('hello')
    result = run_tool(
        [sys.executable, TOOL,
         str(tmp_path / 'text.pdparams'),
         str(tmp_path / 'out.pth')],
        timeout=300)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert result.stderr.splitlines() == [
        f"{ERROR_PREFIX}{tmp_path / 'text.pdparams'}: not a .pdparams file: it does not start "
        "like a pickle of protocol 2-5 (first bytes b'he')"
    ]
