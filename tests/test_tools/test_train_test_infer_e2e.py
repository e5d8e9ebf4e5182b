"""End to end on a handful of synthetic images: train + validate (train.py), evaluate with
predictions dumped and drawn (test.py), then detect on a folder (infer.py)."""
import glob
import json
import os.path as osp
import pickle
import re
import sys

import cv2
import numpy as np
import pytest

METRIC_LINE = re.compile(r'icdar/precision: ([\d.]+)\s+icdar/recall: ([\d.]+)\s+'
                         r'icdar/hmean: ([\d.]+)')


@pytest.fixture(scope='module')
def trained(tmp_path_factory, write_tiny_config, run_tool):
    """Two epochs with validation after the second; returns (config, work_dir, train log)."""
    work_dir = tmp_path_factory.mktemp('e2e_train')
    cfg = write_tiny_config(work_dir, max_epochs=2, val_interval=2)
    result = run_tool([sys.executable, 'tools/train.py', cfg, '--work-dir', str(work_dir)])
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    return cfg, work_dir, log


@pytest.mark.slow
def test_train_validates_and_saves(trained):
    _, work_dir, log = trained
    assert osp.exists(work_dir / 'epoch_2.pth')
    assert open(work_dir / 'last_checkpoint').read().strip().endswith('epoch_2.pth')
    val = METRIC_LINE.findall(log)
    assert len(val) == 1, log[-3000:]
    precision, recall, hmean = map(float, val[0])
    assert 0.0 <= precision <= 1.0 and 0.0 <= recall <= 1.0
    expected = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    assert hmean == pytest.approx(expected, abs=1e-3)
    # the losses were finite and logged every iteration
    losses = [float(v) for v in re.findall(r' loss: ([\d.e+-]+|nan)', log)]
    assert len(losses) == 8 and all(np.isfinite(losses))


@pytest.mark.slow
def test_test_tool_evaluates_dumps_and_draws(trained, tmp_path, run_tool):
    cfg, work_dir, _ = trained
    ckpt = str(work_dir / 'epoch_2.pth')
    out_dir, show_dir = tmp_path / 'test', tmp_path / 'show'
    result = run_tool([sys.executable, 'tools/test.py', cfg, ckpt, '--work-dir', str(out_dir),
                       '--save-preds', '--show-dir', str(show_dir)])
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert len(METRIC_LINE.findall(log)) == 1
    with open(out_dir / 'epoch_2.pth_predictions.pkl', 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 4  # the 4 test images
    for pred in preds:
        assert len(pred['pred_instances']['polygons']) == len(pred['pred_instances']['scores'])
    drawn = glob.glob(str(show_dir / '**' / '*.png'), recursive=True)
    assert len(drawn) == 4


@pytest.mark.slow
def test_infer_on_folder(trained, tmp_path, run_tool, tiny_data_root):
    cfg, work_dir, _ = trained
    images = osp.join(tiny_data_root, 'ch4_test_images')
    out_dir = tmp_path / 'infer'
    result = run_tool([sys.executable, 'tools/infer.py', images, '--config', cfg,
                       '--checkpoint', str(work_dir / 'epoch_2.pth'), '--out-dir', str(out_dir)])
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    names = sorted(osp.splitext(n)[0] for n in map(osp.basename, glob.glob(images + '/*.jpg')))
    assert len(names) == 4
    for name in names:
        with open(out_dir / 'preds' / f'{name}.json') as f:
            pred = json.load(f)
        assert len(pred['polygons']) == len(pred['scores'])
        with open(out_dir / 'submit' / f'res_{name}.txt') as f:
            lines = [line for line in f.read().splitlines() if line]
        assert len(lines) == len(pred['polygons'])
        for line in lines:
            assert len(line.split(',')) == 8 and all(re.fullmatch(r'-?\d+', v)
                                                     for v in line.split(','))
        vis = cv2.imread(str(out_dir / 'vis' / f'{name}.jpg'))
        original = cv2.imread(osp.join(images, f'{name}.jpg'))
        assert vis is not None and vis.shape == original.shape


@pytest.mark.slow
def test_dist_test_two_processes_matches_single_process(trained, tmp_path, run_tool, free_port):
    cfg, work_dir, _ = trained
    ckpt = str(work_dir / 'epoch_2.pth')
    single = run_tool([sys.executable, 'tools/test.py', cfg, ckpt,
                       '--work-dir', str(tmp_path / 'single')])
    assert single.returncode == 0, (single.stdout + single.stderr)[-4000:]
    dist = run_tool(['bash', 'tools/dist_test.sh', cfg, ckpt, '2',
                     '--work-dir', str(tmp_path / 'dist')],
                    env_extra=dict(PORT=str(free_port), OMP_NUM_THREADS='1'))
    log = dist.stdout + dist.stderr
    assert dist.returncode == 0, log[-4000:]
    assert 'using the gloo backend instead of nccl' in log
    # predictions of both ranks are gathered before the metric: same numbers as one process
    single_log = single.stdout + single.stderr
    assert METRIC_LINE.findall(log) == METRIC_LINE.findall(single_log)
    counts = re.compile(r'matched (\d+), cared gt (\d+), cared det (\d+)')
    assert counts.findall(log) == counts.findall(single_log)
    assert int(counts.findall(log)[0][1]) > 0  # every test image's ground truth counted once
