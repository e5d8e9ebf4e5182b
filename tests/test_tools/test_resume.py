"""Interrupting training after a checkpoint and resuming with ``--resume`` ends in the same state
as an uninterrupted run: same epoch/iteration, optimizer state, learning rate and weights."""
import os.path as osp
import sys

import pytest
import torch

TRAIN = [sys.executable, 'tools/train.py']
ITERS_PER_EPOCH = 4  # 8 training images, batch 2
MAX_EPOCHS = 3


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


@pytest.mark.slow
def test_resume_after_crash_matches_uninterrupted_run(tmp_path, write_tiny_config, run_tool):
    # reference: three epochs in one go
    ref_dir = tmp_path / 'uninterrupted'
    ref_dir.mkdir()
    ref_cfg = write_tiny_config(ref_dir, max_epochs=MAX_EPOCHS)
    result = run_tool([*TRAIN, ref_cfg, '--work-dir', str(ref_dir)])
    assert result.returncode == 0, result.stderr[-3000:]

    # crash in the middle of epoch 3 (after epoch_2.pth was written), then resume
    crash_dir = tmp_path / 'interrupted'
    crash_dir.mkdir()
    crash_at = 2 * ITERS_PER_EPOCH + 2
    crash_cfg = write_tiny_config(
        crash_dir,
        max_epochs=MAX_EPOCHS,
        custom_hooks=[dict(type='CrashAtIterHook', at_iter=crash_at)])
    result = run_tool([*TRAIN, crash_cfg, '--work-dir', str(crash_dir)])
    assert result.returncode == 17, result.stderr[-3000:]
    assert osp.exists(crash_dir / 'epoch_2.pth')
    assert not osp.exists(crash_dir / 'epoch_3.pth')

    resume_cfg = write_tiny_config(crash_dir, max_epochs=MAX_EPOCHS)  # same config, no crash
    result = run_tool([*TRAIN, resume_cfg, '--work-dir', str(crash_dir), '--resume'])
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert 'resumed epoch: 2, iter: 8' in log

    ref, resumed = load(ref_dir / 'epoch_3.pth'), load(crash_dir / 'epoch_3.pth')
    assert (resumed['meta']['epoch'], resumed['meta']['iter']) == (MAX_EPOCHS, 12)
    assert (ref['meta']['epoch'], ref['meta']['iter']) == (MAX_EPOCHS, 12)

    # learning rate after the x0.1 milestone at epoch 2, and the scheduler state
    ref_lrs = [g['lr'] for g in ref['optimizer']['param_groups']]
    assert [g['lr'] for g in resumed['optimizer']['param_groups']] == ref_lrs
    assert ref_lrs == [pytest.approx(1e-4)]
    assert resumed['param_schedulers'] == ref['param_schedulers']

    # Adam state: step counts and both moments of every parameter
    ref_state, res_state = ref['optimizer']['state'], resumed['optimizer']['state']
    assert ref_state.keys() == res_state.keys() and len(ref_state) > 0
    for key in ref_state:
        assert float(res_state[key]['step']) == float(ref_state[key]['step']) == 12
        for moment in ('exp_avg', 'exp_avg_sq'):
            torch.testing.assert_close(
                res_state[key][moment], ref_state[key][moment], rtol=1e-5, atol=1e-8)

    # weights and BN statistics
    assert ref['state_dict'].keys() == resumed['state_dict'].keys()
    for name, value in ref['state_dict'].items():
        torch.testing.assert_close(
            resumed['state_dict'][name], value, rtol=1e-5, atol=1e-7, msg=lambda m: f'{name}: {m}')

    # and the crash really cost work: the resumed run re-did epoch 3 (it did not start over)
    assert 'Epoch(train)   [1]' not in log and 'Epoch(train) [1]' not in log
