"""Bad checkpoints and configs: read_checkpoint (torch's safe loader, never retried unsafely)
and the tools that load a model (infer.py, test.py, export_onnx.py) name the file and the reason
in one line and exit 1."""
import importlib.util
import os
import os.path as osp
import re

import pytest
import torch

from mmpse_ext.apis import CheckpointError, load_config, read_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class RunsCodeWhenUnpickled:
    """Unpickling this creates a folder: proof that code from the file ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (self.marker, )


@pytest.fixture(scope='module')
def bad_checkpoints(tmp_path_factory, trained_model):
    """name -> (path, what the one-line error must say)."""
    _, checkpoint = trained_model
    folder = tmp_path_factory.mktemp('bad_checkpoints')
    made = {}

    def make(name, reason):
        made[name] = (str(folder / f'{name}.pth'), reason)
        return made[name][0]

    with open(
            make(
                'garbage', r"is not a PyTorch checkpoint \(neither a zip archive nor a "
                r"pickle; it starts with b'garbage\\n'\)"), 'w') as f:
        f.write('garbage\n')  # echo garbage > x.pth
    open(make('empty', 'is an empty file'), 'wb').close()
    with open(checkpoint, 'rb') as f:
        data = f.read()
    with open(
            make('truncated', r'is truncated or corrupt \(its zip archive is incomplete\)'),
            'wb') as f:
        f.write(data[:len(data) // 2])
    torch.save([1, 2, 3], make('list', 'is not a checkpoint: it holds a list'))
    torch.save({'meta': {
        'epoch': 3
    }},
               make('no_tensors', r'is not a checkpoint: it holds a dict without tensors '
                    r'\(keys: meta\)'))
    marker = str(folder / 'code_ran')
    torch.save({
        'state_dict': {
            'w': torch.zeros(1)
        },
        'x': RunsCodeWhenUnpickled(marker)
    },
               make(
                   'runs_code', r"holds objects that (torch's safe loader \(weights_only=True\)|"
                   r'the restricted loader \(torch < 2\.4\)) '
                   r'refuses, starting with (posix|nt|os)\.mkdir; not loaded'))
    return made, marker


def test_read_checkpoint_names_each_bad_file_in_one_line(bad_checkpoints):
    made, marker = bad_checkpoints
    for name, (path, reason) in made.items():
        with pytest.raises(CheckpointError) as caught:
            read_checkpoint(path)
        message = str(caught.value)
        assert message.startswith(f'checkpoint {path!r} '), message
        assert '\n' not in message
        assert re.search(reason, message), (name, message)
    assert not osp.exists(marker)  # refused, never unpickled unsafely


def test_runner_checkpoint_is_read_safely(trained_model):
    config, checkpoint = trained_model
    from mmocr.registry import MODELS
    state = read_checkpoint(checkpoint)
    model = MODELS.build(load_config(config).model)
    assert set(state) == set(model.state_dict())
    assert all(isinstance(value, torch.Tensor) for value in state.values())


def load_tool(name):
    path = osp.join(REPO, 'tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location('h17b_tool_' + name.replace('/', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def bad_configs(tmp_path_factory, trained_model):
    """name -> (path, what the one-line error must say)."""
    config, _ = trained_model
    folder = tmp_path_factory.mktemp('bad_configs')
    texts = {
        'syntax_error':
        ("model = dict(type='PSENet'\n", r"is not valid Python: '\(' was never closed \(line 1\)"),
        'no_model': ('x = 1\n', r'has no model \(a `model = dict\(type=...\)` entry\)'),
        'unknown_type': (f"_base_ = [{config!r}]\nmodel = dict(_delete_=True, type='NoSuchNet')\n",
                         'its model cannot be built: KeyError: .*NoSuchNet'),
    }
    made = {'missing': (str(folder / 'missing.py'), 'does not exist')}
    for name, (text, reason) in texts.items():
        path = folder / f'{name}.py'
        path.write_text(text)
        made[name] = (str(path), reason)
    return made


def one_error_line(captured) -> str:
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('ERROR: '), captured.err
    return lines[0]


def test_tools_give_one_line_for_bad_checkpoints(bad_checkpoints, trained_model, tmp_path, capsys,
                                                 synthetic_root):
    config, _ = trained_model
    infer, test, export = (
        load_tool(name) for name in ('infer', 'test', 'model_converters/export_onnx'))
    made, marker = bad_checkpoints
    images = osp.join(synthetic_root, 'ch4_test_images')
    for name, (path, reason) in made.items():
        assert infer.main(
            [images, '--config', config, '--checkpoint', path, '--out-dir',
             str(tmp_path / 'out')]) == 1
        assert re.search(reason, one_error_line(capsys.readouterr()))
        with pytest.raises(SystemExit) as caught:
            test.main([config, path, '--work-dir', str(tmp_path / 'work')])
        assert caught.value.code == 1
        assert path in one_error_line(capsys.readouterr())
        assert export.main([config, path, str(tmp_path / 'x.onnx')]) == 1
        assert path in one_error_line(capsys.readouterr())
    assert not osp.exists(marker)
    assert not (tmp_path / 'out').exists() and not (tmp_path / 'x.onnx').exists()


def test_tools_give_one_line_for_bad_configs(bad_configs, trained_model, tmp_path, capsys,
                                             synthetic_root):
    _, checkpoint = trained_model
    infer, test, export = (
        load_tool(name) for name in ('infer', 'test', 'model_converters/export_onnx'))
    images = osp.join(synthetic_root, 'ch4_test_images')
    for name, (path, reason) in bad_configs.items():
        assert infer.main([
            images, '--config', path, '--checkpoint', checkpoint, '--out-dir',
            str(tmp_path / 'out')
        ]) == 1
        line = one_error_line(capsys.readouterr())
        assert path in line and re.search(reason, line), line
        assert export.main([path, checkpoint, str(tmp_path / 'x.onnx')]) == 1
        assert path in one_error_line(capsys.readouterr())
        with pytest.raises(SystemExit) as caught:
            test.main([path, checkpoint, '--work-dir', str(tmp_path / 'work')])
        assert caught.value.code == 1
        assert path in one_error_line(capsys.readouterr())


@pytest.mark.slow
def test_infer_command_refuses_a_pickle_that_runs_code(bad_checkpoints, trained_model,
                                                       synthetic_root, tmp_path, python_tool):
    """The user's view: exit status 1, one line on stderr, no traceback, nothing ran."""
    config, _ = trained_model
    made, marker = bad_checkpoints
    path, reason = made['runs_code']
    result = python_tool([
        'tools/infer.py',
        osp.join(synthetic_root, 'ch4_test_images'), '--config', config, '--checkpoint', path,
        '--out-dir',
        str(tmp_path / 'out')
    ])
    assert result.returncode == 1, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and re.search(reason, lines[0]), result.stderr
    assert not osp.exists(marker)
