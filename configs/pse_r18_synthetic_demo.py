# CPU demo (tools/run_demo.sh): a small PSENet trained from scratch on the synthetic
# ICDAR2015-format set (tools/make_synthetic_icdar15.py) in minutes on 2 CPU cores.
#
# Deviations from the recipe (configs/pse_r50vd_icdar15.py), all for CPU speed / no pretrained
# weights offline:
#   * model: ResNet18-vd with half-width channels + 64-channel FPN (configs/_base_/models/
#     pse_r18_fpn.py) instead of ResNet50-vd; random init instead of ImageNet weights;
#   * data: 320x320 crops of 320-640 px synthetic scenes, test short side 320
#     (configs/_base_/datasets/synthetic_icdar2015_demo.py) instead of 640 crops / 736 test;
#   * schedule: Adam lr 1e-3 (scratch training), 12 epochs with x0.1 after 10, fp32 (no AMP),
#     no SyncBN, validation only at the end.
# Everything else (targets, loss, post-processing, metric) is the recipe's.
_base_ = [
    '_base_/models/pse_r18_fpn.py',
    '_base_/datasets/synthetic_icdar2015_demo.py',
    '_base_/default_runtime.py',
    '_base_/schedules/schedule_adam_600e_paddle.py',
]

base_width = 32
model = dict(
    backbone=dict(base_channels=base_width, stem_channels=base_width),
    neck=dict(in_channels=[base_width, base_width * 2, base_width * 4, base_width * 8]))

# 12 epochs x 75 iterations (300 images, batch 4), lr x0.1 after epoch 10, ~0.3 s per iteration
# on 2 idle cores. Measured on the default synthetic set (seed 0): test hmean 0.7718 (P 0.8204,
# R 0.7287), whole tools/run_demo.sh 5m24s without set-up. Longer is better but slower: 16 epochs
# with x0.1 after 13 reached 0.7989 (validating every 4 epochs: 0.639 / 0.685 / 0.782 / 0.799).
max_epochs = 12
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', milestones=[10], gamma=0.1, by_epoch=True, end=max_epochs),
]
# one loader worker is plenty (~0.03 s per batch) and leaves the 2 cores to the model
train_dataloader = dict(num_workers=1)
randomness = dict(seed=0)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(_delete_=True, type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1))
