# PSENet, ResNet50-vd + FPN, SCUT-CTW1500 (curved text lines): the flagship's model and training
# machinery (configs/pse_r50vd_icdar15.py: PaddleOCR's det_r50_vd_pse network, loss, Adam
# schedule, AMP, SyncBN) with the official PSENet's CTW1500 data, scales, kernels and `poly`
# output. Every item and its source: docs/recipe.md, "CTW1500 and Total-Text".
#
# Data: the released folders under data/ctw1500 (configs/_base_/datasets/ctw1500.py says which);
# elsewhere: --cfg-options {train,val,test}_dataloader.dataset.data_root=/path
#
#   tools/dist_train.sh configs/pse_r50vd_ctw1500.py 4        # 4 GPUs x batch 8, AMP, SyncBN
#   python tools/test.py configs/pse_r50vd_ctw1500.py work_dirs/pse_r50vd_ctw1500/best_*.pth
#
# Evaluation: the IoU protocol (one-to-one matches at IoU >= 0.5, detections mostly inside a
# '###' region dropped) on the 14-point polygons, as MMOCR evaluates CTW1500; our ICDAR2015
# metric matches polygons of any shape exactly (docs/evaluation.md).
_base_ = [
    '_base_/models/pse_r50vd_fpn.py',
    '_base_/datasets/ctw1500.py',
    '_base_/default_runtime.py',
    '_base_/schedules/schedule_adam_600e_paddle.py',
]

# The flagship's machinery, item for item (tests/test_configs/test_curved_configs.py checks it):
# ImageNet ResNet50-vd init, AMP with a dynamic loss scale from 1024, SyncBN, lr scaled for 32.
pretrained_backbone = 'pretrained/ResNet50_vd_ssld_pretrained.pth'
optim_wrapper = dict(
    type='mmpse_ext.DeviceAgnosticAmpOptimWrapper', loss_scale=dict(init_scale=1024.0))
sync_bn = 'torch'
auto_scale_lr = dict(base_batch_size=32)

# The official test_cfg: min_score 0.85, min_area 16 (kernels and texts), kernel_num 7, 'poly'
# (the outer contour of each text's pixels).
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    det_head=dict(
        postprocessor=dict(
            text_repr_type='poly', score_threshold=0.85, min_kernel_area=16, min_text_area=16)))

val_evaluator = dict(type='mmpse_ext.ICDAR2015HmeanMetric', prefix='ctw1500')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='ctw1500/hmean'))
