# PaddleOCR det_r50_vd_pse schedule (docs/recipe.md): Adam lr 1e-4, betas (0.9, 0.999), coupled L2
# weight decay 5e-4 (torch Adam, not AdamW), lr x0.1 at epochs 200 and 400, 600 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=5e-4))
# Paddle evaluates every 125 iterations (eval_batch_step [0, 125]): 4 epochs of ICDAR2015's 1000
# training images at 4 GPUs x batch 8 (32 iterations per epoch).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=600, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='MultiStepLR', milestones=[200, 400], gamma=0.1, by_epoch=True, end=600),
]
