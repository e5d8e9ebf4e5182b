"""Fixtures for the MMOCR-compatibility tests: a tiny synthetic set in MMOCR's JSON layout, the
stock MMOCR PSENet config with our types swapped in, and one short training run by MMOCR's
``tools/train.py`` whose checkpoint the other tests load."""
import os.path as osp
import shutil
import sys

import pytest
from mmocr_tool_runs import (MMOCR_MIM, MMOCR_TOOLS, run_command, stock_swapped_config_text,
                             tiny_stock_options)


@pytest.fixture(scope='session')
def compat_data_root(tmp_path_factory):
    """4 training and 2 test synthetic scenes (128-192 px), MMOCR's textdet_*.json included."""
    from mmpse_ext.datasets import make_synthetic_icdar2015
    root = str(tmp_path_factory.mktemp('mmocr_compat_data'))
    make_synthetic_icdar2015(root, num_train=4, num_test=2, size_range=(128, 192), seed=3)
    return root


@pytest.fixture(scope='session')
def stock_swapped_config(tmp_path_factory):
    """docs/migrating_from_mmocr.md's snippet as a config file next to MMOCR's stock
    psenet_resnet50_fpnf_600e_icdar2015.py, in a copy of MMOCR's configs (a user's project)."""
    configs = tmp_path_factory.mktemp('mmocr_project') / 'configs'
    shutil.copytree(
        osp.join(MMOCR_MIM, 'configs'), configs, ignore=shutil.ignore_patterns('__pycache__'))
    path = configs / 'textdet' / 'psenet' / 'psenet_stock_swapped.py'
    path.write_text(stock_swapped_config_text())
    return str(path)


@pytest.fixture(scope='session')
def stock_trained(tmp_path_factory, compat_data_root, stock_swapped_config):
    """MMOCR's tools/train.py, 2 iterations of the stock-swapped config; its work dir."""
    work_dir = str(tmp_path_factory.mktemp('stock_train'))
    result = run_command([
        sys.executable,
        osp.join(MMOCR_TOOLS, 'train.py'), stock_swapped_config, '--work-dir', work_dir,
        '--cfg-options', *tiny_stock_options(compat_data_root)
    ],
                         cwd=work_dir)
    return dict(
        work_dir=work_dir,
        checkpoint=osp.join(work_dir, 'epoch_1.pth'),
        dumped_config=osp.join(work_dir, osp.basename(stock_swapped_config)),
        log=result.stdout + result.stderr)
