# PSENet, ResNet50-vd + FPN, ICDAR2015: PaddleOCR's det_r50_vd_pse recipe with no option set
# (every item, its Paddle source and the switch that changes it: docs/recipe.md). The paper's
# choices instead: configs/pse_r50vd_icdar15_paper.py.
#
#   tools/dist_train.sh configs/pse_r50vd_icdar15.py 4         # 4 GPUs x batch 8, AMP, SyncBN
#   tools/dist_train.sh configs/pse_r50vd_icdar15_paper.py 4   # the paper's variant
#   python tools/test.py configs/pse_r50vd_icdar15.py work_dirs/pse_r50vd_icdar15/best_*.pth
#
# ImageNet initialisation: convert PaddleClas' ResNet50_vd_ssld weights once,
#   python tools/model_converters/convert_paddle_weights.py ResNet50_vd_ssld_pretrained.pdparams \
#       pretrained/ResNet50_vd_ssld_pretrained.pth
# or point elsewhere with --cfg-options model.backbone.init_cfg.checkpoint=/path/to.pth
# (model.backbone.init_cfg=None trains from scratch). A converted det_r50_vd_pse model goes to
# --cfg-options load_from=/path/psenet_paddle.pth, or straight to tools/test.py / tools/infer.py.
#
# Data: the seed's PaddleOCR layout at configs/_base_/datasets/icdar2015.py's data root; override
# with --cfg-options {train,val,test}_dataloader.dataset.data_root=/path (and .ann_format=icdar
# for the raw release files).
#
# Devices: AMP runs on every device (float16 autocast on GPUs, bfloat16 on the CPU, dynamic loss
# scaling everywhere), also under MMOCR's own tools; `--launcher pytorch` uses gloo instead of
# nccl on CPU-only machines.
_base_ = [
    '_base_/models/pse_r50vd_fpn.py',
    '_base_/datasets/icdar2015.py',
    '_base_/default_runtime.py',
    '_base_/schedules/schedule_adam_600e_paddle.py',
]

pretrained_backbone = 'pretrained/ResNet50_vd_ssld_pretrained.pth'
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)))

# Adam 1e-4 / coupled L2 5e-4 / x0.1 at 200, 400 / 600 epochs come from the schedule; the seed
# trains in fp16 with dynamic loss scaling starting at 1024 (its scale_loss=1024). A dict
# loss_scale is passed to torch's GradScaler (a float would be a *static* scale). Our wrapper is
# mmengine's AmpOptimWrapper (same arguments and checkpoint layout) on any device; mmengine's own
# refuses to run without CUDA/NPU/MLU/MUSA.
optim_wrapper = dict(
    type='mmpse_ext.DeviceAgnosticAmpOptimWrapper', loss_scale=dict(init_scale=1024.0))

# BatchNorm -> torch SyncBatchNorm in distributed runs (mmengine's Runner converts; single-process
# runs keep plain BN).
sync_bn = 'torch'

# Batch 8 per GPU (configs/_base_/datasets/icdar2015.py) on 4 GPUs; --auto-scale-lr rescales the
# lr linearly for other totals.
auto_scale_lr = dict(base_batch_size=32)

# Validation cadence (train_cfg.val_interval) and the best-hmean checkpoint
# (default_hooks.checkpoint) come from the schedule and runtime pieces.
