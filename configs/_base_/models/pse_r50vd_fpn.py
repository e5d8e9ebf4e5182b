# PSENet of PaddleOCR's det_r50_vd_pse recipe: mmdet ResNet50-vd + Paddle's FPN + PSE head.
# Reusable from any MMOCR config (default_scope='mmocr'); our modules are named with their scope.
# Plain BN here; the training config sets `sync_bn='torch'` so distributed runs convert it to SyncBN
# (the conversion keeps each layer's momentum).
# custom_imports (mmpse_ext) comes from configs/_base_/default_runtime.py: mmengine rejects a key
# defined in two _base_ files of one config, so only the runtime piece sets it.

model = dict(
    type='PSENet',
    data_preprocessor=dict(
        type='TextDetDataPreprocessor',
        # ImageNet mean/std applied to the B, G, R channels in that order (Paddle never swaps to
        # RGB); converted Paddle weights expect exactly this.
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=False,
        pad_size_divisor=32),
    backbone=dict(
        type='mmdet.ResNetV1d',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        # Paddle's ResNet_vd BatchNorm: Paddle momentum 0.9 = torch 0.1
        norm_cfg=dict(type='BN', requires_grad=True, momentum=0.1),
        norm_eval=False,
        style='pytorch'),
    neck=dict(
        type='mmpse_ext.PSEFPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        # Paddle's FPN BatchNorm2D(momentum=0.1): Paddle's convention (running = m * running +
        # (1 - m) * batch) makes that torch momentum 0.9 (docs/recipe.md)
        norm_cfg=dict(type='BN', momentum=0.9)),
    det_head=dict(
        type='mmpse_ext.PSEHead',
        in_channels=1024,
        hidden_dim=256,
        out_channel=7,
        norm_cfg=dict(type='BN', momentum=0.1),  # Paddle's default BatchNorm (0.9 = torch 0.1)
        module_loss=dict(
            type='mmpse_ext.PSELoss',
            text_weight=0.7,
            ohem_ratio=3,
            kernel_sample_mask='pred',
            reduction='sum'),
        postprocessor=dict(
            type='mmpse_ext.PSEPostprocessor',
            text_repr_type='quad',
            score_threshold=0.85,
            min_kernel_area=16,
            min_text_area=16)))
