""".dev_scripts/run_curved_demo.sh, shortened (8 training images, one epoch): every step runs, both
protocols are reported and checked, the pictures are drawn and the gate fails a run below it.

The full run and its measured numbers: README, "Curved text"; docs/benchmarks.md.
"""
import glob
import os.path as osp
import re

import pytest

SHORT = ['--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1']


def _metrics(stdout, label):
    match = re.search(label + r'\s+precision ([0-9.]+)\s+recall ([0-9.]+)\s+hmean ([0-9.]+)',
                      stdout)
    assert match, stdout[-2000:]
    return tuple(map(float, match.groups()))


@pytest.mark.slow
def test_short_curved_demo_reports_both_protocols_and_draws(tmp_path, run_tool):
    work_dir, data_root = tmp_path / 'demo', tmp_path / 'data'
    env = dict(
        SKIP_SETUP='1',
        WORK_DIR=str(work_dir),
        DATA_ROOT=str(data_root),
        DATA_ARGS='--num-train 8 --num-test 3 --size 200 260',
        MIN_HMEAN='1.01')
    result = run_tool(['bash', '.dev_scripts/run_curved_demo.sh', *SHORT],
                      timeout=900,
                      env_extra=env)
    # the one-epoch model is far below any gate: the run reports, then fails on MIN_HMEAN
    assert result.returncode != 0
    assert 'DetEval hmean' in result.stderr and 'below MIN_HMEAN=1.01' in result.stderr
    assert 'Traceback' not in result.stderr
    for label in (r'DetEval \(Total-Text\):', 'IoU protocol:'):
        precision, recall, hmean = _metrics(result.stdout, label)
        assert 0.0 <= hmean <= 1.0
        if precision + recall:
            assert hmean == pytest.approx(2 * precision * recall / (precision + recall), abs=1e-3)
    test_images = glob.glob(osp.join(data_root, 'Images', 'Test', '*.jpg'))
    assert len(test_images) == 3
    assert len(glob.glob(osp.join(work_dir, 'vis', '*.jpg'))) == 3
    assert len(glob.glob(osp.join(work_dir, 'preds', '*.json'))) == 3
