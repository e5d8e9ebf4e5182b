# CPU demo (tools/run_demo.sh): a small PSENet trained from scratch on the synthetic
# ICDAR2015-format set (tools/make_synthetic_icdar15.py) in minutes on 2 CPU cores.
#
# Deviations from the recipe (configs/pse_r50vd_icdar15.py), all for CPU speed / no pretrained
# weights offline:
#   * model: ResNet18-vd with half-width channels + 64-channel FPN (configs/_base_/models/
#     pse_r18_fpn.py) instead of ResNet50-vd; random init instead of ImageNet weights;
#   * data: 320x320 crops of 320-640 px synthetic scenes, test short side 320
#     (configs/_base_/datasets/synthetic_icdar2015_demo.py) instead of 640 crops / 736 test;
#   * schedule: Adam lr 1e-3 (scratch training), short schedule, fp32 (no AMP), no SyncBN.
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

max_epochs = 30
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', milestones=[int(max_epochs * 0.8)], gamma=0.1, by_epoch=True,
         end=max_epochs),
]
randomness = dict(seed=0)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(_delete_=True, type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1))
