"""tools/test.py: MMOCR's flags map onto the config as MMOCR's script maps them."""
import os.path as osp

import pytest

CONFIG_TEXT = """
default_scope = 'mmocr'
custom_imports = dict(imports=['mmpse_ext'], allow_failed_imports=False)
default_hooks = dict(visualization=dict(type='VisualizationHook', enable=False))
visualizer = dict(type='TextDetLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='WandbVisBackend')])
test_evaluator = dict(type='mmpse_ext.ICDAR2015HmeanMetric')
"""


@pytest.fixture
def test_tool(load_tool):
    return load_tool('test')


@pytest.fixture
def files(tmp_path):
    cfg = tmp_path / 'tiny_cfg.py'
    cfg.write_text(CONFIG_TEXT)
    ckpt = tmp_path / 'epoch_5.pth'
    ckpt.write_bytes(b'')
    return str(cfg), str(ckpt)


def build(test_tool, *argv):
    return test_tool.build_test_cfg(test_tool.parse_args(list(argv)))


def test_checkpoint_becomes_load_from(test_tool, files, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    cfg = build(test_tool, *files)
    assert cfg.load_from == files[1]
    assert cfg.work_dir == osp.join('./work_dirs', 'tiny_cfg')
    assert cfg.default_hooks.visualization.enable is False


def test_missing_checkpoint_is_a_clear_error(test_tool, files):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        build(test_tool, files[0], 'nope.pth')


def test_save_preds_appends_dump_results(test_tool, files):
    cfg = build(test_tool, *files, '--work-dir', '/tmp/wd', '--save-preds')
    assert cfg.test_evaluator == [
        dict(type='mmpse_ext.ICDAR2015HmeanMetric'),
        dict(type='DumpResults', out_file_path='/tmp/wd/epoch_5.pth_predictions.pkl')
    ]


def test_show_dir_enables_visualization(test_tool, files):
    cfg = build(test_tool, *files, '--show-dir', '/tmp/vis')
    hook = cfg.default_hooks.visualization
    assert (hook.enable, hook.draw_gt, hook.draw_pred) == (True, True, True)
    assert cfg.visualizer.save_dir == '/tmp/vis'
    assert cfg.visualizer.vis_backends == [dict(type='LocalVisBackend')]


def test_show_sets_wait_time(test_tool, files):
    cfg = build(test_tool, *files, '--show', '--wait-time', '0.5')
    assert cfg.default_hooks.visualization.show is True
    assert cfg.default_hooks.visualization.wait_time == 0.5


def test_show_and_show_dir_exclusive(test_tool, files):
    with pytest.raises(ValueError, match='--show and --show-dir'):
        build(test_tool, *files, '--show', '--show-dir', '/tmp/vis')


def test_show_dir_needs_visualization_hook(test_tool, files, tmp_path):
    cfg = tmp_path / 'no_hook.py'
    cfg.write_text(
        CONFIG_TEXT.replace(
            "default_hooks = dict(visualization=dict(type='VisualizationHook', enable=False))",
            'default_hooks = dict()'))
    with pytest.raises(RuntimeError, match='default_hooks.visualization'):
        build(test_tool, str(cfg), files[1], '--show-dir', '/tmp/vis')


def test_precision_selects_our_test_loop(test_tool, files):
    cfg = build(test_tool, *files, '--precision', 'bf16')
    assert cfg.test_cfg == dict(type='mmpse_ext.PrecisionTestLoop', precision='bf16')
    assert 'test_cfg' not in build(test_tool, *files)  # default: the config's own loop
