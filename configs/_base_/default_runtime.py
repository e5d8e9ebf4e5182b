# Runtime shared by every mmpse_ext config: MMOCR's textdet runtime plus our registrations, the
# CPU-capable DDP wrapper and the ICDAR2015 hmean metric.
default_scope = 'mmocr'
custom_imports = dict(imports=['mmpse_ext'], allow_failed_imports=False)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; tools/train.py and tools/test.py switch to gloo when there is no accelerator.
    dist_cfg=dict(backend='nccl'),
)
# Stock MMDistributedDataParallel on GPUs; also runs on CPU modules (gloo CI runs). Written as an
# import path: mmengine's Runner.wrap_model looks wrappers up in the root registry, which does not
# see the grandchild scope 'mmpse_ext' (root -> mmocr -> mmpse_ext) but does import dotted paths.
model_wrapper_cfg = dict(
    type='mmpse_ext.engine.CPUCapableDDP', broadcast_buffers=False, find_unused_parameters=False)
randomness = dict(seed=None)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # every 20 epochs (3 kept, for --resume) and the best ICDAR2015 hmean at each validation
    checkpoint=dict(
        type='CheckpointHook',
        interval=20,
        max_keep_ckpts=3,
        save_best='icdar2015/hmean',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffer=dict(type='SyncBuffersHook'),
    visualization=dict(
        type='VisualizationHook',
        interval=1,
        enable=False,
        show=False,
        draw_gt=False,
        draw_pred=False),
)

log_level = 'INFO'
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)

load_from = None
resume = False

val_evaluator = dict(type='mmpse_ext.ICDAR2015HmeanMetric')
test_evaluator = val_evaluator

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='TextDetLocalVisualizer', name='visualizer', vis_backends=vis_backends)
