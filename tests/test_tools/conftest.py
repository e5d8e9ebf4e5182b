"""Fixtures for the tool tests: tools/ scripts as modules, a tiny synthetic data set and a tiny
training config derived from the CPU demo config."""
import importlib.util
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HERE = osp.dirname(osp.abspath(__file__))
DEMO_CONFIG = osp.join(REPO, 'configs', 'pse_r18_synthetic_demo.py')

# The demo config shrunk for tests: 8 px base width, batch 2, one loader worker (re-created each
# epoch with mmengine's seeded worker_init_fn, so augmentation streams do not depend on history
# and a resumed run can match an uninterrupted one exactly).
TINY_CONFIG = """
_base_ = [{demo!r}]
custom_imports = dict(imports=['mmpse_ext', 'train_probe_hooks'], allow_failed_imports=False)
data_root = {data_root!r}
model = dict(
    backbone=dict(base_channels=8, stem_channels=8),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=16),
    det_head=dict(in_channels=64, hidden_dim=16))
train_dataloader = dict(
    batch_size=2, num_workers=1, persistent_workers=False, dataset=dict(data_root=data_root))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={max_epochs}, val_interval={val_interval})
param_scheduler = [
    dict(type='MultiStepLR', milestones=[2], gamma=0.1, by_epoch=True, end={max_epochs})]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=10))
custom_hooks = {custom_hooks!r}
randomness = dict(seed=0)
"""


@pytest.fixture(scope='session')
def load_tool():
    """Import a script from tools/ (not a package) as a module: ``load_tool('train')``,
    ``load_tool('model_converters/export_onnx')``."""

    def load(name):
        path = osp.join(REPO, 'tools', f'{name}.py')
        module_name = 'mmpse_tools_' + name.replace('/', '_')
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope='session')
def tiny_data_root(tmp_path_factory):
    """8 training and 4 test synthetic images (160-320 px) in all three annotation formats."""
    root = tmp_path_factory.mktemp('synthetic_tiny')
    subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'dataset_converters', 'make_synthetic_icdar15.py'), '--out',
        str(root), '--num-train', '8', '--num-test', '4', '--size', '160', '320', '--seed', '3'
    ],
                   check=True,
                   capture_output=True,
                   text=True,
                   timeout=300)
    return str(root)


@pytest.fixture(scope='session')
def write_tiny_config(tiny_data_root):
    """Write the tiny config into a directory; returns its path."""

    def write(directory, max_epochs=3, val_interval=100, custom_hooks=()):
        path = osp.join(str(directory), 'tiny_demo.py')
        with open(path, 'w') as f:
            f.write(
                TINY_CONFIG.format(
                    demo=DEMO_CONFIG,
                    data_root=tiny_data_root,
                    max_epochs=max_epochs,
                    val_interval=val_interval,
                    custom_hooks=list(custom_hooks)))
        return path

    return write


@pytest.fixture
def free_port():
    """A TCP port nobody listens on right now (for torchrun's rendezvous)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='session')
def run_tool():
    """Run a command with the repository and the probe hooks importable; returns the result."""

    def run(cmd, timeout=600, env_extra=None):
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join([REPO, HERE] +
                                            ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
        env.setdefault('PYTHON', sys.executable)
        env.update(env_extra or {})
        return subprocess.run(
            cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)

    return run
