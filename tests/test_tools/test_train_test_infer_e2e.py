"""End to end on a handful of synthetic images: train + validate (train.py), evaluate with
predictions dumped and drawn (test.py), then detect on folders (infer.py) and check that the
submission infer.py writes scores, under an independent implementation of the official
ICDAR2015 protocol, exactly what test.py reported."""
import glob
import json
import os.path as osp
import pickle
import re
import shutil
import sys

import cv2
import numpy as np
import pytest
from shapely.geometry import Polygon

METRIC_LINE = re.compile(r'icdar2015/precision: ([\d.]+)\s+icdar2015/recall: ([\d.]+)\s+'
                         r'icdar2015/hmean: ([\d.]+)')
COUNTS_LINE = re.compile(r'matched (\d+), cared gt (\d+), cared det (\d+)')
EPOCHS = 16  # enough for the tiny model to find a few words
ITERATIONS_PER_EPOCH = 4  # 8 training images, batch 2
# Evaluation and inference keep instances with a mean text score >= 0.7 instead of the recipe's
# 0.85, which this briefly trained model rarely reaches: the comparisons then have several
# detections and matches to compare.
EVAL_CONFIG = """
_base_ = ['tiny_demo.py']
model = dict(det_head=dict(postprocessor=dict(score_threshold=0.7)))
"""


@pytest.fixture(scope='module')
def trained(tmp_path_factory, write_tiny_config, run_tool):
    """EPOCHS epochs (lr x0.1 for the last two), validation at the end; returns (config,
    work_dir, train log)."""
    work_dir = tmp_path_factory.mktemp('e2e_train')
    cfg = write_tiny_config(work_dir, max_epochs=EPOCHS, val_interval=EPOCHS)
    result = run_tool([
        sys.executable, 'tools/train.py', cfg, '--work-dir',
        str(work_dir), '--cfg-options', f'param_scheduler.0.milestones=[{EPOCHS - 2}]'
    ])
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    return cfg, work_dir, log


@pytest.fixture(scope='module')
def checkpoint(trained):
    return str(trained[1] / f'epoch_{EPOCHS}.pth')


@pytest.fixture(scope='module')
def eval_config(trained):
    """The training config with the lower box threshold (EVAL_CONFIG), next to it."""
    path = trained[1] / 'tiny_demo_eval.py'
    path.write_text(EVAL_CONFIG)
    return str(path)


@pytest.fixture(scope='module')
def test_tool_run(eval_config, checkpoint, tmp_path_factory, run_tool):
    """tools/test.py with --save-preds and --show-dir: (log, work dir, show dir)."""
    cfg = eval_config
    out_dir, show_dir = tmp_path_factory.mktemp('test'), tmp_path_factory.mktemp('show')
    result = run_tool([
        sys.executable, 'tools/test.py', cfg, checkpoint, '--work-dir',
        str(out_dir), '--save-preds', '--show-dir',
        str(show_dir)
    ])
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    return log, out_dir, show_dir


@pytest.fixture(scope='module')
def infer_flat_run(eval_config, checkpoint, tmp_path_factory, run_tool, tiny_data_root):
    """tools/infer.py on the test images folder, as .dev_scripts/run_demo.sh runs it."""
    out_dir = tmp_path_factory.mktemp('infer')
    result = run_tool([
        sys.executable, 'tools/infer.py',
        osp.join(tiny_data_root, 'ch4_test_images'), '--config', eval_config, '--checkpoint',
        checkpoint, '--out-dir',
        str(out_dir)
    ])
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout, out_dir


@pytest.mark.slow
def test_train_validates_and_saves(trained):
    _, work_dir, log = trained
    assert osp.exists(work_dir / f'epoch_{EPOCHS}.pth')
    assert open(work_dir / 'last_checkpoint').read().strip().endswith(f'epoch_{EPOCHS}.pth')
    val = METRIC_LINE.findall(log)
    assert len(val) == 1, log[-3000:]
    # the losses were finite and logged every iteration
    losses = [float(v) for v in re.findall(r' loss: ([\d.e+-]+|nan)', log)]
    assert len(losses) == EPOCHS * ITERATIONS_PER_EPOCH and all(np.isfinite(losses))
    # and went down: the last epoch's mean is well below the first's
    first, last = (
        np.mean(losses[i:i + ITERATIONS_PER_EPOCH])
        for i in (0, len(losses) - ITERATIONS_PER_EPOCH))
    assert last < 0.8 * first, (first, last)


@pytest.mark.slow
def test_test_tool_evaluates_dumps_and_draws(test_tool_run):
    log, out_dir, show_dir = test_tool_run
    assert len(METRIC_LINE.findall(log)) == 1
    with open(out_dir / f'epoch_{EPOCHS}.pth_predictions.pkl', 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 4  # the 4 test images
    for pred in preds:
        assert len(pred['pred_instances']['polygons']) == len(pred['pred_instances']['scores'])
    drawn = glob.glob(str(show_dir / '**' / '*.png'), recursive=True)
    assert len(drawn) == 4


def read_gt(path):
    """Ground truth of one image in the raw ICDAR2015 format: [(Polygon, dont_care)]."""
    regions = []
    with open(path, encoding='utf-8-sig') as f:
        for line in f:
            parts = line.rstrip('\n').split(',')
            if len(parts) < 9:
                continue
            points = np.array([float(v) for v in parts[:8]]).reshape(4, 2)
            regions.append((Polygon(points), ','.join(parts[8:]) == '###'))
    return regions


def read_submission(path):
    with open(path) as f:
        return [
            Polygon(np.array([int(v) for v in line.split(',')]).reshape(4, 2))
            for line in f.read().splitlines() if line
        ]


def official_counts(gt_dir, submit_dir):
    """The official script's pooled counts (task 4.1 defaults), written from its description:
    a detection covering > 50 % of its area with one ``###`` region is don't-care; then
    greedy one-to-one matching, ground truths in file order, detections in file order, of
    cared pairs with IoU > 0.5. Returns (matched, cared gt, cared det)."""
    matched = cared_gt = cared_det = 0
    for gt_file in sorted(glob.glob(osp.join(gt_dir, 'gt_*.txt'))):
        name = osp.basename(gt_file)[len('gt_'):-len('.txt')]
        gts = read_gt(gt_file)
        dets = read_submission(osp.join(submit_dir, f'res_{name}.txt'))
        det_cared = []
        for det in dets:
            share = max((det.intersection(gt).area / det.area
                         for gt, dont_care in gts if dont_care and det.area > 0),
                        default=0.0)
            det_cared.append(share <= 0.5)
        gt_used, det_used = [False] * len(gts), [False] * len(dets)
        for g, (gt, dont_care) in enumerate(gts):
            for d, det in enumerate(dets):
                if dont_care or not det_cared[d] or gt_used[g] or det_used[d]:
                    continue
                inter = gt.intersection(det).area
                union = gt.area + det.area - inter
                if union > 0 and inter / union > 0.5:
                    gt_used[g] = det_used[d] = True
                    matched += 1
        cared_gt += sum(not dont_care for _, dont_care in gts)
        cared_det += sum(det_cared)
    return matched, cared_gt, cared_det


@pytest.mark.slow
def test_infer_submission_scores_what_the_test_tool_reported(test_tool_run, infer_flat_run,
                                                             tiny_data_root):
    log, _, _ = test_tool_run
    (precision, recall, hmean), = [tuple(map(float, m)) for m in METRIC_LINE.findall(log)]
    (tool_counts, ) = [tuple(map(int, m)) for m in COUNTS_LINE.findall(log)]
    stdout, out_dir = infer_flat_run
    counts = official_counts(
        osp.join(tiny_data_root, 'Challenge4_Test_Task1_GT'), str(out_dir / 'submit'))
    assert counts == tool_counts
    matched, num_gt, num_det = counts
    assert matched > 0 and hmean > 0  # trained beyond chance: the comparison compared matches
    assert precision == pytest.approx(matched / num_det, abs=1e-4)
    assert recall == pytest.approx(matched / num_gt, abs=1e-4)
    assert stdout.strip().splitlines()[-1] == (
        f'4 images, {num_det_total(out_dir)} detections -> {out_dir}/{{preds,submit,vis}}')


def num_det_total(out_dir):
    return sum(
        len(json.load(open(p))['polygons']) for p in glob.glob(str(out_dir / 'preds' / '*.json')))


@pytest.mark.slow
def test_infer_outputs_per_image(infer_flat_run, tiny_data_root):
    _, out_dir = infer_flat_run
    images = osp.join(tiny_data_root, 'ch4_test_images')
    names = sorted(osp.splitext(n)[0] for n in map(osp.basename, glob.glob(images + '/*.jpg')))
    assert len(names) == 4
    for name in names:
        with open(out_dir / 'preds' / f'{name}.json') as f:
            pred = json.load(f)
        assert pred['img_path'] == osp.join(images, f'{name}.jpg')
        assert len(pred['polygons']) == len(pred['scores'])
        with open(out_dir / 'submit' / f'res_{name}.txt') as f:
            lines = [line for line in f.read().splitlines() if line]
        assert len(lines) == len(pred['polygons'])
        for line in lines:
            assert len(line.split(',')) == 8 and all(
                re.fullmatch(r'-?\d+', v) for v in line.split(','))
        vis = cv2.imread(str(out_dir / 'vis' / f'{name}.jpg'))
        original = cv2.imread(osp.join(images, f'{name}.jpg'))
        assert vis is not None and vis.shape == original.shape


@pytest.mark.slow
def test_infer_keeps_nested_duplicate_names_apart(eval_config, checkpoint, infer_flat_run, tmp_path,
                                                  run_tool, tiny_data_root):
    """a/img_1.jpg and b/c/img_1.jpg are different images: each gets its own outputs, equal to
    those of the image in the flat run; batches of 2 change nothing."""
    _, flat_dir = infer_flat_run
    images = osp.join(tiny_data_root, 'ch4_test_images')
    sources = {osp.join('a', 'img_1'): 'img_2', osp.join('b', 'c', 'img_1'): 'img_4'}
    for name, original in sources.items():
        target = tmp_path / 'in' / f'{name}.jpg'
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(osp.join(images, f'{original}.jpg'), target)
    out_dir = tmp_path / 'out'
    result = run_tool([
        sys.executable, 'tools/infer.py',
        str(tmp_path / 'in'), '--config', eval_config, '--checkpoint', checkpoint, '--out-dir',
        str(out_dir), '--batch-size', '2'
    ])
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    for name, original in sources.items():
        with open(out_dir / 'preds' / f'{name}.json') as f:
            nested = json.load(f)
        with open(flat_dir / 'preds' / f'{original}.json') as f:
            flat = json.load(f)
        assert nested['img_path'] == str(tmp_path / 'in' / f'{name}.jpg')
        assert (nested['polygons'], nested['scores']) == (flat['polygons'], flat['scores'])
        folder, stem = osp.split(name)
        assert (out_dir / 'submit' / folder /
                f'res_{stem}.txt').read_text() == (flat_dir / 'submit' /
                                                   f'res_{original}.txt').read_text()
        assert (out_dir / 'vis' / f'{name}.jpg').is_file()


@pytest.mark.slow
def test_dist_test_two_processes_matches_single_process(trained, checkpoint, tmp_path, run_tool,
                                                        free_port):
    cfg = trained[0]
    single = run_tool(
        [sys.executable, 'tools/test.py', cfg, checkpoint, '--work-dir',
         str(tmp_path / 'single')])
    assert single.returncode == 0, (single.stdout + single.stderr)[-4000:]
    dist = run_tool(
        ['bash', 'tools/dist_test.sh', cfg, checkpoint, '2', '--work-dir',
         str(tmp_path / 'dist')],
        env_extra=dict(PORT=str(free_port), OMP_NUM_THREADS='1'))
    log = dist.stdout + dist.stderr
    assert dist.returncode == 0, log[-4000:]
    assert 'using the gloo backend instead of nccl' in log
    # predictions of both ranks are gathered before the metric: same numbers as one process
    single_log = single.stdout + single.stderr
    assert METRIC_LINE.findall(log) == METRIC_LINE.findall(single_log)
    assert COUNTS_LINE.findall(log) == COUNTS_LINE.findall(single_log)
    assert int(COUNTS_LINE.findall(log)[0][1]) > 0  # every test image's ground truth counted once
