"""tools/dist_*.sh and tools/slurm_*.sh: argument checks and the torchrun / srun command they run.

A fake interpreter (``PYTHON=<script that prints its argv>``) records the exact command line, so
these tests check the forwarding of MMOCR's environment variables without starting processes.
"""
import os
import os.path as osp
import stat
import subprocess

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')


@pytest.fixture
def fake_python(tmp_path):
    path = tmp_path / 'fake_python'
    path.write_text('#!/usr/bin/env bash\nfor a in "$@"; do echo "ARG:$a"; done\n'
                    'echo "PYTHONPATH:$PYTHONPATH"\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def run_script(name, args, env_extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ('NNODES', 'NODE_RANK', 'MASTER_ADDR', 'PORT', 'PYTHONPATH')
    }
    env.update(env_extra)
    return subprocess.run(['bash', osp.join(TOOLS, name), *args],
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=60)


def recorded_args(stdout):
    return [line[len('ARG:'):] for line in stdout.splitlines() if line.startswith('ARG:')]


@pytest.mark.parametrize('name, args', [
    ('dist_train.sh', []),
    ('dist_train.sh', ['cfg.py']),
    ('dist_test.sh', ['cfg.py', 'ckpt.pth']),
])
def test_too_few_arguments_print_usage(name, args, fake_python):
    result = run_script(name, args, {'PYTHON': fake_python})
    assert result.returncode == 2
    assert 'Usage:' in result.stderr
    assert recorded_args(result.stdout) == []


@pytest.mark.parametrize('bad', ['0', 'four', '-1', '2x'])
def test_num_procs_must_be_positive_integer(bad, fake_python):
    result = run_script('dist_train.sh', ['cfg.py', bad], {'PYTHON': fake_python})
    assert result.returncode == 2
    assert f"got '{bad}'" in result.stderr


def test_dist_train_defaults(fake_python):
    result = run_script('dist_train.sh', ['configs/pse_r50vd_icdar15.py', '4'],
                        {'PYTHON': fake_python})
    assert result.returncode == 0, result.stderr
    assert recorded_args(result.stdout) == [
        '-m', 'torch.distributed.run', '--nnodes=1', '--node_rank=0', '--master_addr=127.0.0.1',
        '--nproc_per_node=4', '--master_port=29500',
        osp.join(TOOLS, 'train.py'), 'configs/pse_r50vd_icdar15.py', '--launcher', 'pytorch'
    ]
    # the repository root goes first on PYTHONPATH, as in MMOCR's script
    pythonpath = [line for line in result.stdout.splitlines() if line.startswith('PYTHONPATH:')][0]
    assert osp.realpath(pythonpath[len('PYTHONPATH:'):].split(':')[0]) == osp.realpath(REPO)


def test_dist_train_multinode_env_and_extra_args(fake_python):
    env = dict(PYTHON=fake_python, NNODES='2', NODE_RANK='1', MASTER_ADDR='10.1.2.3', PORT='12345')
    result = run_script('dist_train.sh',
                        ['cfg.py', '8', '--amp', '--cfg-options', 'train_cfg.max_epochs=3'], env)
    assert result.returncode == 0, result.stderr
    assert recorded_args(result.stdout) == [
        '-m', 'torch.distributed.run', '--nnodes=2', '--node_rank=1', '--master_addr=10.1.2.3',
        '--nproc_per_node=8', '--master_port=12345',
        osp.join(TOOLS, 'train.py'), 'cfg.py', '--launcher', 'pytorch', '--amp', '--cfg-options',
        'train_cfg.max_epochs=3'
    ]


def test_dist_test_forwards_checkpoint_and_options(fake_python):
    env = dict(PYTHON=fake_python, PORT='29612')
    result = run_script('dist_test.sh', ['cfg.py', 'w/epoch_1.pth', '2', '--save-preds'], env)
    assert result.returncode == 0, result.stderr
    assert recorded_args(result.stdout) == [
        '-m', 'torch.distributed.run', '--nnodes=1', '--node_rank=0', '--master_addr=127.0.0.1',
        '--nproc_per_node=2', '--master_port=29612',
        osp.join(TOOLS,
                 'test.py'), 'cfg.py', 'w/epoch_1.pth', '--launcher', 'pytorch', '--save-preds'
    ]


def test_python_autodetects_setup_env_venv(tmp_path):
    """Without $PYTHON or an active venv, the venv made by .dev_scripts/setup_env.sh is used."""
    tag = subprocess.run(
        ['python3', '-c', 'import sys; print(f"py{sys.version_info[0]}{sys.version_info[1]}")'],
        capture_output=True,
        text=True,
        check=True).stdout.strip()
    fake_bin = tmp_path / f'venv-{tag}' / 'bin'
    fake_bin.mkdir(parents=True)
    fake = fake_bin / 'python'
    # answers the "can it import torch" probe, then records the real call
    fake.write_text('#!/usr/bin/env bash\nif [[ "$1" == "-c" ]]; then exit 0; fi\n'
                    'echo "VENV_PYTHON_USED"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHON', 'VIRTUAL_ENV', 'MMPSE_VENV')}
    env['MMPSE_CACHE_ROOT'] = str(tmp_path)
    result = subprocess.run(['bash', osp.join(TOOLS, 'dist_train.sh'), 'cfg.py', '1'],
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert 'VENV_PYTHON_USED' in result.stdout


@pytest.fixture
def fake_srun(tmp_path):
    """A directory holding an ``srun`` that prints its argv and PYTHONPATH instead of running."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text('#!/usr/bin/env bash\nfor a in "$@"; do echo "ARG:$a"; done\n'
                    'echo "PYTHONPATH:$PYTHONPATH"\n')
    srun.chmod(srun.stat().st_mode | stat.S_IEXEC)
    return str(bin_dir)


@pytest.mark.parametrize('name, args', [
    ('slurm_train.sh', ['part', 'job', 'cfg.py']),
    ('slurm_test.sh', ['part', 'job', 'cfg.py']),
])
def test_slurm_too_few_arguments_print_usage(name, args, fake_srun):
    result = run_script(name, args, {'PYTHON': 'py', 'PATH': f'{fake_srun}:/usr/bin:/bin'})
    assert result.returncode == 2
    assert 'Usage:' in result.stderr
    assert recorded_args(result.stdout) == []


def test_slurm_train_builds_mmocr_srun_command(fake_srun):
    env = dict(
        PYTHON='/venv/bin/python',
        PATH=f'{fake_srun}:/usr/bin:/bin',
        GPUS='16',
        GPUS_PER_NODE='8',
        CPUS_PER_TASK='4',
        SRUN_ARGS='--quotatype=auto --exclusive')
    result = run_script('slurm_train.sh',
                        ['gpu', 'pse', 'configs/pse_r50vd_icdar15.py', 'work_dirs/pse', '--amp'],
                        env)
    assert result.returncode == 0, result.stderr
    assert recorded_args(result.stdout) == [
        '-p', 'gpu', '--job-name=pse', '--gres=gpu:8', '--ntasks=16', '--ntasks-per-node=8',
        '--cpus-per-task=4', '--kill-on-bad-exit=1', '--quotatype=auto', '--exclusive',
        '/venv/bin/python', '-u',
        osp.join(TOOLS, 'train.py'), 'configs/pse_r50vd_icdar15.py', '--work-dir=work_dirs/pse',
        '--launcher=slurm', '--amp'
    ]
    pythonpath = [line for line in result.stdout.splitlines() if line.startswith('PYTHONPATH:')][0]
    assert osp.realpath(pythonpath[len('PYTHONPATH:'):].split(':')[0]) == osp.realpath(REPO)


def test_slurm_test_defaults_and_checkpoint(fake_srun):
    env = dict(PYTHON='py', PATH=f'{fake_srun}:/usr/bin:/bin')
    result = run_script('slurm_test.sh', ['p', 'j', 'cfg.py', 'w/best.pth', '--save-preds'], env)
    assert result.returncode == 0, result.stderr
    assert recorded_args(result.stdout) == [
        '-p', 'p', '--job-name=j', '--gres=gpu:8', '--ntasks=8', '--ntasks-per-node=8',
        '--cpus-per-task=5', '--kill-on-bad-exit=1', 'py', '-u',
        osp.join(TOOLS, 'test.py'), 'cfg.py', 'w/best.pth', '--launcher=slurm', '--save-preds'
    ]
