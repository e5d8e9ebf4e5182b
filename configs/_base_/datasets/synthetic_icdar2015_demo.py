# The synthetic ICDAR2015-format set (tools/dataset_converters/make_synthetic_icdar15.py, default
# output) at small sizes for CPU demos and CI: images of ~320-640 px, 320 crops, test short
# side >= 320.
# Same pipeline steps as the recipe (icdar2015.py); sizes, paths and loader sizes differ, and the
# targets and crop keep the choices the CPU demo was tuned with (the paper variant's, see
# configs/pse_r50vd_icdar15_paper.py and docs/recipe.md), not PaddleOCR's.
_base_ = ['icdar2015.py']

icdar2015_data_root = 'data/synthetic_icdar2015'
icdar2015_ann_format = 'paddle'

train_min_short_side = 320
train_crop_size = (320, 320)
train_scale_range = (0.75, 1.5)  # the synthetic words are already small on small images
test_limit_side_len = 320
test_size_divisor = 32

# the demo's targets: whole-word text map, only trained rates decide what is ignored, don't-care
# words not drawn, 1/16-pixel vertices, every piece of a split shrink
demo_pse_targets = dict(
    type='mmpse_ext.PSETargets',
    kernel_num=7,
    min_shrink_ratio=0.4,
    full_text_map=True,
    ignore_if_unused_rate_fails=False,
    draw_ignored=False,
    rasterization='subpixel',
    split_pieces='all')
demo_crop_range = 'overlap'  # the text-aware draw always shows text

# Variables are substituted when each file is parsed, so the pipelines are rebuilt with the new
# values (mmengine does not re-evaluate the base file's expressions).
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation', ignore_empty=True),
    dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True, with_label=True),
    dict(type='TorchVisionWrapper', op='ColorJitter', brightness=32.0 / 255, saturation=0.5),
    dict(type='mmpse_ext.RandomScale', scale_range=train_scale_range),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpse_ext.RandomRotateKeepSize', max_angle={{_base_.train_max_angle}}),
    dict(type='mmpse_ext.MinShortSideResize', min_short_side=train_min_short_side),
    demo_pse_targets,
    dict(
        type='mmpse_ext.TextAwareRandomCrop',
        crop_size=train_crop_size,
        text_crop_prob={{_base_.train_text_crop_prob}},
        crop_range=demo_crop_range),
    dict(type='mmpse_ext.PackPSEInputs', meta_keys={{_base_.pack_meta_keys}}),
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(
        type='mmpse_ext.LimitSideResize',
        limit_side_len=test_limit_side_len,
        limit_type={{_base_.test_limit_type}},
        size_divisor=test_size_divisor,
        max_pixels={{_base_.test_max_pixels}},
        max_side={{_base_.test_max_side}}),
    dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True, with_label=True),
    dict(type='mmpse_ext.PackPSEInputs', meta_keys={{_base_.pack_meta_keys}}),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        data_root=icdar2015_data_root, ann_format=icdar2015_ann_format, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    dataset=dict(
        data_root=icdar2015_data_root, ann_format=icdar2015_ann_format, pipeline=test_pipeline))
test_dataloader = val_dataloader
