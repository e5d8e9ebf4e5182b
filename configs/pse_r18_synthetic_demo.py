# CPU demo (.dev_scripts/run_demo.sh): a small PSENet trained from scratch on the synthetic
# ICDAR2015-format set (tools/dataset_converters/make_synthetic_icdar15.py) in minutes on 2
# CPU cores.
#
# Deviations from the recipe (configs/pse_r50vd_icdar15.py), for CPU speed / no pretrained
# weights offline, and to keep the settings the demo was tuned with:
#   * model: ResNet18-vd with half-width channels + 64-channel FPN (configs/_base_/models/
#     pse_r18_fpn.py) instead of ResNet50-vd; random init instead of ImageNet weights;
#   * data: 320x320 crops of 320-640 px synthetic scenes, test short side 320
#     (configs/_base_/datasets/synthetic_icdar2015_demo.py) instead of 640 crops / 736 test;
#   * targets, crop range, OHEM and FPN BatchNorm momentum: the choices the demo was tuned
#     with (the paper variant's targets, crop and OHEM, torch's default BN momentum in the FPN),
#     not PaddleOCR's; docs/recipe.md lists both;
#   * schedule: Adam lr 1e-3 (scratch training), 12 epochs with x0.1 after 10, fp32 (no AMP),
#     no SyncBN, validation only at the end.
# Post-processing and the metric are the recipe's.
_base_ = [
    '_base_/models/pse_r18_fpn.py',
    '_base_/datasets/synthetic_icdar2015_demo.py',
    '_base_/default_runtime.py',
    '_base_/schedules/schedule_adam_600e_paddle.py',
]

base_width = 32
model = dict(
    backbone=dict(base_channels=base_width, stem_channels=base_width),
    neck=dict(
        in_channels=[base_width, base_width * 2, base_width * 4, base_width * 8],
        # torch's default momentum, which the demo was tuned with
        norm_cfg=dict(type='BN', momentum=0.1)),
    det_head=dict(
        module_loss=dict(
            ohem_negatives='mask',  # negatives inside the training mask, exactly 3 per positive
            targets={{_base_.demo_pse_targets}})))  # same targets when a sample carries none

# 12 epochs x 75 iterations (300 images, batch 4), lr x0.1 after epoch 10.
max_epochs = 12
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', milestones=[10], gamma=0.1, by_epoch=True, end=max_epochs),
]
# one loader worker leaves the 2 cores to the model
train_dataloader = dict(num_workers=1)
randomness = dict(seed=0)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    # the last epoch only (it is the one evaluated), no best-hmean copy
    checkpoint=dict(_delete_=True, type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1))
