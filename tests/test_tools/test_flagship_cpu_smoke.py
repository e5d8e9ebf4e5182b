"""The flagship recipe config trains on CPU through tools/train.py with its AMP settings on
(float16 autocast, dynamic loss scaling from 1024), the backbone initialises from a
converted-checkpoint path, and a checkpoint with the loss scaler's state is written."""
import sys

import pytest
import torch


@pytest.mark.slow
def test_flagship_two_iterations_on_cpu(tmp_path, tiny_data_root, run_tool):
    from mmdet.models.backbones import ResNetV1d

    # stand-in for the ImageNet output of tools/model_converters/convert_paddle_weights.py:
    # backbone keys, no prefix
    torch.manual_seed(0)
    backbone_state = ResNetV1d(depth=50).state_dict()
    pretrained = tmp_path / 'r50vd_converted.pth'
    torch.save(backbone_state, pretrained)

    work_dir = tmp_path / 'work'
    data = [
        f'{split}_dataloader.dataset.data_root={tiny_data_root}'
        for split in ('train', 'val', 'test')
    ]
    result = run_tool([
        sys.executable, 'tools/train.py', 'configs/pse_r50vd_icdar15.py', '--work-dir',
        str(work_dir), '--cfg-options', *data, 'train_dataloader.batch_size=1',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'train_dataloader.dataset.indices=2', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=1',
        f'model.backbone.init_cfg.checkpoint={pretrained}'
    ])
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert 'mmpse_ext._C kernels: ' in log  # the environment report printed at start
    assert f'load model from: {pretrained}' in log

    ckpt = torch.load(work_dir / 'epoch_1.pth', map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == 2
    # AMP ran: the optimizer state holds the GradScaler's, started at the recipe's 1024 and
    # halved once per overflowing (skipped) step; a clean step counts towards growth
    assert 'loss_scaler' in ckpt['optimizer'], 'trained without AMP: no GradScaler state'
    scaler = ckpt['optimizer']['loss_scaler']
    clean_steps = scaler['_growth_tracker']
    assert scaler['growth_interval'] == 2000 and 0 <= clean_steps <= 2
    assert scaler['scale'] in (1024.0, 512.0, 256.0)
    assert (scaler['scale'] == 1024.0) == (clean_steps == 2)
    # the recipe's optimizer ran: Adam with coupled L2 5e-4 at lr 1e-4
    group = ckpt['optimizer']['param_groups'][0]
    assert (group['lr'], group['weight_decay'], group['betas']) == (1e-4, 5e-4, (0.9, 0.999))
    # the backbone started from the given weights: 2 Adam steps of lr 1e-4 move a weight by well
    # under 1e-3, while two random initialisations differ by ~0.1
    stem = ckpt['state_dict']['backbone.stem.0.weight']
    assert (stem - backbone_state['stem.0.weight']).abs().max() < 1e-3
    assert (stem - ResNetV1d(depth=50).state_dict()['stem.0.weight']).abs().max() > 1e-2
