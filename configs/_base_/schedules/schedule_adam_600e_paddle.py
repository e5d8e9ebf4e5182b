# PaddleOCR det_r50_vd_pse schedule (DESIGN.md §2): Adam lr 1e-4, betas (0.9, 0.999), coupled L2
# weight decay 5e-4 (torch Adam, not AdamW), lr x0.1 at epochs 200 and 400, 600 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=5e-4))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=600, val_interval=20)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='MultiStepLR', milestones=[200, 400], gamma=0.1, by_epoch=True, end=600),
]
