"""MMOCR's own tools, inferencers and training on our modules, as an MMOCR user runs them.

The scripts are the installed mmocr's (``mmocr/.mim/tools``); every subprocess runs with torch's
default ``weights_only`` (no ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``). Predictions of the 2-iteration
model are compared between routes (MMOCR's test.py, its inferencers, our model called directly),
not graded.
"""
import glob
import os.path as osp
import pickle
import runpy
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmocr_tool_runs import (KEEP_EVERY_INSTANCE, MIGRATION_DOC, MMOCR_TOOLS, REPO, run_command,
                             stock_swapped_config_text, tiny_flagship_options, tiny_stock_options)

OUR_CONFIGS = ('configs/pse_r18_synthetic_demo.py', 'configs/pse_r50vd_icdar15.py')


def _polygons_by_image(predictions):
    """{image file name: list of float arrays} from test.py's --save-preds pickle."""
    return {
        osp.basename(p['img_path']):
        [np.asarray(q, np.float64).ravel() for q in p['pred_instances']['polygons']]
        for p in predictions
    }


def _assert_same_polygons(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(np.asarray(a, np.float64).ravel(), e, atol=1e-3)


@pytest.fixture(scope='module')
def eval_config(stock_trained, tmp_path_factory):
    """The config MMOCR's train.py dumped, keeping every instance and listing MMOCR's metric
    next to ours (their prefixes must differ for mmengine to accept both)."""
    path = tmp_path_factory.mktemp('eval_config') / 'stock_swapped_eval.py'
    path.write_text(f"_base_ = [{stock_trained['dumped_config']!r}]\n"
                    'model = dict(det_head=dict(postprocessor=dict(\n'
                    '    score_threshold=0.0, min_kernel_area=0, min_text_area=0)))\n'
                    "test_evaluator = [dict(type='HmeanIOUMetric'),\n"
                    "                  dict(type='mmpse_ext.ICDAR2015HmeanMetric')]\n")
    return str(path)


@pytest.fixture(scope='module')
def mmocr_test_predictions(stock_trained, eval_config, tmp_path_factory):
    """MMOCR's tools/test.py on the checkpoint its train.py wrote; (predictions, log)."""
    work_dir = str(tmp_path_factory.mktemp('stock_test'))
    result = run_command([
        sys.executable,
        osp.join(MMOCR_TOOLS, 'test.py'), eval_config, stock_trained['checkpoint'], '--work-dir',
        work_dir, '--save-preds'
    ],
                         cwd=work_dir)
    [pkl] = glob.glob(osp.join(work_dir, '*_predictions.pkl'))
    with open(pkl, 'rb') as f:
        return pickle.load(f), result.stdout + result.stderr


def test_readme_plugin_snippet_is_the_tested_config():
    """The README's copy of the plugin snippet (after the same marker) is the one trained here."""
    tested = stock_swapped_config_text(MIGRATION_DOC)
    assert tested is not None and "type='mmpse_ext.PSEHead'" in tested
    readme = stock_swapped_config_text(osp.join(REPO, 'README.md'))
    assert readme == tested


@pytest.mark.slow
def test_mmocr_train_runs_the_stock_config_with_our_types(stock_trained):
    log = stock_trained['log']
    assert 'Epoch(train) [1][2/2]' in log
    checkpoint = torch.load(stock_trained['checkpoint'])  # torch's default weights_only
    assert checkpoint['meta']['iter'] == 2
    assert 'det_head.fuse_conv.weight' in checkpoint['state_dict']  # our head, not MMOCR's
    assert 'neck.lateral_convs.0.conv.weight' in checkpoint['state_dict']
    losses = checkpoint['message_hub']['log_scalars']['train/loss'].data[0]
    assert len(losses) == 2 and np.isfinite(losses).all()


@pytest.mark.slow
def test_mmocr_test_py_returns_our_models_polygons(stock_trained, eval_config,
                                                   mmocr_test_predictions):
    """test.py's polygons equal those of our model called directly on the same checkpoint."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmocr.registry import DATASETS, MODELS

    predictions, log = mmocr_test_predictions
    # both metrics ran, side by side, under different keys
    assert 'icdar/hmean' in log and 'icdar2015/hmean' in log
    by_image = _polygons_by_image(predictions)
    assert sum(len(v) for v in by_image.values()) > 0

    cfg = Config.fromfile(eval_config)
    init_default_scope('mmocr')
    model = MODELS.build(cfg.model)
    load_checkpoint(model, stock_trained['checkpoint'], map_location='cpu')
    model.eval()
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(dataset) == len(by_image) == 2
    for index in range(len(dataset)):
        with torch.no_grad():
            [sample] = model.test_step(pseudo_collate([dataset[index]]))
        _assert_same_polygons(by_image[osp.basename(sample.img_path)],
                              [np.asarray(p, np.float64) for p in sample.pred_instances.polygons])


@pytest.mark.slow
def test_mmocr_inferencers_return_the_same_polygons(stock_trained, eval_config,
                                                    mmocr_test_predictions, compat_data_root):
    from mmocr.apis import MMOCRInferencer, TextDetInferencer

    by_image = _polygons_by_image(mmocr_test_predictions[0])
    image = osp.join(compat_data_root, 'ch4_test_images', 'img_1.jpg')
    ocr = MMOCRInferencer(det=eval_config, det_weights=stock_trained['checkpoint'], device='cpu')
    [ocr_prediction] = ocr(image)['predictions']
    _assert_same_polygons(ocr_prediction['det_polygons'], by_image['img_1.jpg'])
    det = TextDetInferencer(model=eval_config, weights=stock_trained['checkpoint'], device='cpu')
    [det_prediction] = det(image)['predictions']
    _assert_same_polygons(det_prediction['polygons'], by_image['img_1.jpg'])
    np.testing.assert_allclose(det_prediction['scores'], ocr_prediction['det_scores'])


@pytest.mark.slow
def test_mmocr_infer_py_writes_our_polygons(stock_trained, eval_config, mmocr_test_predictions,
                                            compat_data_root, tmp_path):
    import json
    by_image = _polygons_by_image(mmocr_test_predictions[0])
    image = osp.join(compat_data_root, 'ch4_test_images', 'img_2.jpg')
    run_command([
        sys.executable,
        osp.join(MMOCR_TOOLS, 'infer.py'), image, '--det', eval_config, '--det-weights',
        stock_trained['checkpoint'], '--out-dir',
        str(tmp_path), '--save_pred', '--device', 'cpu'
    ],
                cwd=str(tmp_path))
    with open(tmp_path / 'preds' / 'img_2.json') as f:
        prediction = json.load(f)
    _assert_same_polygons(prediction['det_polygons'], by_image['img_2.jpg'])


def _run_script(monkeypatch, script, *args):
    """Run one of MMOCR's tool scripts in this process, as `python script args`."""
    monkeypatch.setattr(sys, 'argv', [script, *map(str, args)])
    runpy.run_path(script, run_name='__main__')


@pytest.mark.parametrize('config', OUR_CONFIGS)
@pytest.mark.parametrize('phase', ['train', 'test'])
@pytest.mark.parametrize('mode', ['original', 'transformed', 'pipeline'])
def test_browse_dataset_on_our_configs(monkeypatch, tmp_path, compat_data_root, config, phase,
                                       mode):
    out_dir = tmp_path / 'browse'
    dataloader = 'train_dataloader' if phase == 'train' else 'test_dataloader'
    args = [
        osp.join(REPO, config), '-p', phase, '-m', mode, '-o', out_dir, '--not-show', '-n', 2,
        '--cfg-options', f'{dataloader}.dataset.data_root={compat_data_root}'
    ]
    script = osp.join(MMOCR_TOOLS, 'visualizations', 'browse_dataset.py')
    if mode == 'original':
        # MMOCR infers the task from the pipeline's last transform, ours is PackPSEInputs
        with pytest.raises(ValueError, match='Unable to infer the task type'):
            _run_script(monkeypatch, script, *args)
        args += ['-t', 'textdet']
    _run_script(monkeypatch, script, *args)
    written = sorted(glob.glob(str(out_dir / '*.jpg')))
    assert len(written) == 2
    import mmcv
    heights = [mmcv.imread(path).shape[0] for path in written]
    assert min(heights) > 0


@pytest.mark.parametrize('config', OUR_CONFIGS)
def test_print_config_on_our_configs(monkeypatch, capsys, config):
    _run_script(monkeypatch, osp.join(MMOCR_TOOLS, 'analysis_tools', 'print_config.py'),
                osp.join(REPO, config))
    printed = capsys.readouterr().out
    assert "type='mmpse_ext.PSEHead'" in printed and "type='mmpse_ext.PSELoss'" in printed


def _mim(*args, cwd):
    pytest.importorskip(
        'mim', reason='openmim (and setuptools < 81 for its pkg_resources) '
        'is not installed')
    return run_command([sys.executable, '-m', 'mim', *map(str, args)], cwd=cwd)


@pytest.mark.slow
def test_mim_train_and_test_on_the_flagship_config(compat_data_root, tmp_path):
    work_dir = tmp_path / 'work'
    config = osp.join(REPO, 'configs', 'pse_r50vd_icdar15.py')
    options = tiny_flagship_options(compat_data_root)
    _mim(
        'train',
        'mmocr',
        config,
        '--gpus',
        0,
        '--work-dir',
        work_dir,
        '--cfg-options',
        *options,
        cwd=str(tmp_path))
    checkpoint = work_dir / 'epoch_1.pth'
    assert torch.load(str(checkpoint))['meta']['iter'] == 2
    result = _mim(
        'test',
        'mmocr',
        config,
        '--checkpoint',
        checkpoint,
        '--gpus',
        0,
        '--work-dir',
        tmp_path / 'test',
        '--cfg-options',
        *options,
        *KEEP_EVERY_INSTANCE,
        cwd=str(tmp_path))
    assert 'icdar2015/hmean' in result.stdout + result.stderr


@pytest.mark.slow
def test_mim_train_and_test_on_the_stock_swapped_config(stock_swapped_config, compat_data_root,
                                                        tmp_path):
    work_dir = tmp_path / 'work'
    options = tiny_stock_options(compat_data_root)
    _mim(
        'train',
        'mmocr',
        stock_swapped_config,
        '--gpus',
        0,
        '--work-dir',
        work_dir,
        '--cfg-options',
        *options,
        cwd=str(tmp_path))
    checkpoint = work_dir / 'epoch_1.pth'
    result = _mim(
        'test',
        'mmocr',
        stock_swapped_config,
        '--checkpoint',
        checkpoint,
        '--gpus',
        0,
        '--work-dir',
        tmp_path / 'test',
        '--cfg-options',
        *options,
        *KEEP_EVERY_INSTANCE,
        cwd=str(tmp_path))
    assert 'icdar/hmean' in result.stdout + result.stderr
