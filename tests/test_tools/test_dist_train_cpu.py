"""tools/dist_train.sh with 2 processes on CPU (gloo): both ranks train in step, one checkpoint."""
import glob
import os.path as osp

import pytest
import torch


def read_steps(path):
    with open(path) as f:
        return [int(line.split()[0]) for line in f]


@pytest.mark.slow
def test_two_process_gloo_training(tmp_path, write_tiny_config, run_tool, free_port):
    work_dir = tmp_path / 'work'
    probe_dir = tmp_path / 'probe'
    work_dir.mkdir()
    # 8 images, batch 2 per process, 2 processes -> 2 iterations per epoch on each rank
    cfg = write_tiny_config(
        work_dir,
        max_epochs=2,
        val_interval=2,
        custom_hooks=[dict(type='RecordRankStepsHook', out_dir=str(probe_dir))])
    result = run_tool([
        'bash', 'tools/dist_train.sh', cfg, '2', '--work-dir',
        str(work_dir), '--cfg-options', 'default_hooks.checkpoint.interval=2'
    ],
                      env_extra=dict(PORT=str(free_port), OMP_NUM_THREADS='1'))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]

    # both ranks ran every iteration
    assert read_steps(probe_dir / 'rank0.txt') == [1, 2, 3, 4]
    assert read_steps(probe_dir / 'rank1.txt') == [1, 2, 3, 4]
    finals = []
    for rank in (0, 1):
        with open(probe_dir / f'rank{rank}_final.txt') as f:
            world_size, backend, checksum, device = f.read().split()
        assert (world_size, backend, device) == ('2', 'gloo', 'cpu')
        finals.append(float(checksum))
    # DDP kept the replicas identical (gradients all-reduced)
    assert finals[0] == pytest.approx(finals[1], rel=1e-9, abs=1e-9)

    # rank 0 wrote exactly one checkpoint, at the end
    assert sorted(osp.basename(p) for p in glob.glob(str(work_dir / '*.pth'))) == ['epoch_2.pth']
    ckpt = torch.load(work_dir / 'epoch_2.pth', map_location='cpu', weights_only=False)
    assert (ckpt['meta']['epoch'], ckpt['meta']['iter']) == (2, 4)
    # the CPU fallbacks were taken, and validation (metric collected over ranks) ran
    assert 'using the gloo backend instead of nccl' in log
    assert 'dropping device_ids' in log
    assert 'icdar2015/hmean' in log
