"""The curved-text configs (CTW1500, Total-Text) build and train two iterations, then validate,
with MMOCR's own ``tools/train.py`` on the synthetic curved set in the released layouts."""
import os.path as osp
import sys

import pytest
import torch
from mmocr_tool_runs import MMOCR_TOOLS, REPO, run_command, tiny_flagship_options

CURVED_CONFIGS = {
    'ctw1500': ('configs/pse_r50vd_ctw1500.py', 'ctw1500/hmean'),
    'totaltext': ('configs/pse_r50vd_totaltext.py', 'totaltext_deteval/hmean'),
}


@pytest.fixture(scope='module')
def curved_data_root(tmp_path_factory):
    """4 training and 2 test curved scenes (128-192 px) in the CTW1500 and Total-Text layouts."""
    from mmpse_ext.datasets import make_synthetic_curved
    root = str(tmp_path_factory.mktemp('mmocr_curved_data'))
    make_synthetic_curved(
        root, num_train=4, num_test=2, size_range=(128, 192), seed=3, progress=lambda line: None)
    return root


def tiny_curved_options(data_root):
    """The flagship's tiny options plus the curved pipelines' sizes at 128 px."""
    return tiny_flagship_options(data_root) + [
        'train_dataloader.dataset.pipeline.3.short_size=128',  # ShortScaleAspectJitter
        'train_dataloader.dataset.pipeline.7.crop_size=(128,128)',  # TextAwareRandomCrop
        'val_dataloader.dataset.pipeline.1.short_size=128',
        'test_dataloader.dataset.pipeline.1.short_size=128',
    ]


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CURVED_CONFIGS))
def test_mmocr_train_py_trains_two_iterations_and_validates(curved_data_root, tmp_path, name):
    config, metric_key = CURVED_CONFIGS[name]
    work_dir = tmp_path / 'work'
    result = run_command([
        sys.executable,
        osp.join(MMOCR_TOOLS, 'train.py'),
        osp.join(REPO, config), '--work-dir',
        str(work_dir), '--cfg-options', *tiny_curved_options(curved_data_root)
    ],
                         cwd=str(tmp_path))
    log = result.stdout + result.stderr
    assert torch.load(str(work_dir / 'epoch_1.pth'))['meta']['iter'] == 2
    assert f'TextDetDataset({name}, train)' in log and '4 images' in log
    assert f'{metric_key}:' in log  # the validation after the epoch ran the config's metric
