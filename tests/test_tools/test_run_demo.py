""".dev_scripts/run_demo.sh, the README's main job: the CPU demo reaches its promised hmean.

This is the whole demo (slow: training and evaluation on the CPU); it guards the README's gate.
"""
import glob
import os.path as osp
import re

import pytest


@pytest.mark.slow
def test_demo_trains_to_promised_hmean_and_draws_predictions(tmp_path, run_tool):
    work_dir, data_root = tmp_path / 'demo', tmp_path / 'data'
    result = run_tool(['bash', '.dev_scripts/run_demo.sh'],
                      timeout=1800,
                      env_extra=dict(
                          SKIP_SETUP='1', WORK_DIR=str(work_dir), DATA_ROOT=str(data_root)))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]

    match = re.search(r'precision ([0-9.]+)\s+recall ([0-9.]+)\s+hmean ([0-9.]+)', result.stdout)
    assert match, result.stdout[-2000:]
    precision, recall, hmean = map(float, match.groups())
    assert hmean >= 0.70, (precision, recall, hmean)
    assert hmean == pytest.approx(2 * precision * recall / (precision + recall), abs=1e-3)

    # one drawing, one JSON and one ICDAR submission file per test image
    test_images = glob.glob(osp.join(data_root, 'ch4_test_images', '*.jpg'))
    assert len(test_images) == 60
    assert len(glob.glob(osp.join(work_dir, 'vis', '*.jpg'))) == len(test_images)
    assert len(glob.glob(osp.join(work_dir, 'preds', '*.json'))) == len(test_images)
    assert len(glob.glob(osp.join(work_dir, 'submit', 'res_img_*.txt'))) == len(test_images)
