# ICDAR2015 for the PSENet recipe (PaddleOCR det_r50_vd_pse, docs/recipe.md): pipelines + loaders.
#
# Annotation format = one field per dataset, `ann_format`: 'paddle' (the seed's label files, the
# default), 'icdar' (raw release gt_img_N.txt) or 'mmocr' (textdet_*.json). Point elsewhere with
#   --cfg-options train_dataloader.dataset.data_root=/path val_dataloader.dataset.data_root=/path \
#                 test_dataloader.dataset.data_root=/path  (same for .ann_format=icdar)
# Every size is a variable below, so small-size variants override only what differs.
# custom_imports (mmpse_ext) comes from configs/_base_/default_runtime.py: mmengine rejects a key
# defined in two _base_ files of one config, so only the runtime piece sets it.

icdar2015_data_root = '/home/datasets/ICDAR2015/text_localization'
icdar2015_ann_format = 'paddle'

train_scale_range = (0.5, 3.0)  # random isotropic rescale (IaaAugment Resize [0.5, 3])
train_max_angle = 10  # degrees, image size kept (IaaAugment Affine rotate [-10, 10])
train_min_short_side = 640  # enlarge before target generation (MakePseGt size)
train_crop_size = (640, 640)  # (w, h) of RandomCropImgMask's window
train_text_crop_prob = 5 / 8  # RandomCropImgMask draws uniformly with p = 3/8
# Test resize, mmpse_ext.LimitSideResize (PaddleOCR's DetResizeForTest vocabulary): the recipe
# enlarges a short side below 736 to 736 ('min'); 'max' shrinks a long side above the length
# (photos: 960). Sides rounded to multiples of 32. Then the network-input cap, whatever the
# rule (peak memory per size: docs/benchmarks.md). From the command line, e.g.
#   --cfg-options test_dataloader.dataset.pipeline.1.limit_type=max \
#                 test_dataloader.dataset.pipeline.1.limit_side_len=960
test_limit_side_len = 736
test_limit_type = 'min'
test_size_divisor = 32
test_max_pixels = 4096 * 1024
test_max_side = 4096

pack_meta_keys = ('img_path', 'ori_shape', 'img_shape', 'scale_factor')

# PaddleOCR's MakePseGt exactly: 7 maps, text map = 0.9 shrink, kernels 0.9 ... 0.4, every
# polygon drawn, a polygon ignored when its shrink fails at any rate (0.3 included). The
# paper's choices are named PSETargets arguments (configs/pse_r50vd_icdar15_paper.py).
pse_targets = dict(type='mmpse_ext.PSETargets', kernel_num=7, min_shrink_ratio=0.4)

train_pipeline = [
    # ignore_empty: an unreadable image yields None; the dataset counts it, logs it and
    # mmengine retries another sample instead of stopping the run.
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation', ignore_empty=True),
    dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True, with_label=True),
    dict(type='TorchVisionWrapper', op='ColorJitter', brightness=32.0 / 255, saturation=0.5),
    dict(type='mmpse_ext.RandomScale', scale_range=train_scale_range),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpse_ext.RandomRotateKeepSize', max_angle=train_max_angle),
    dict(type='mmpse_ext.MinShortSideResize', min_short_side=train_min_short_side),
    # Paddle's order: targets on the whole image, then a crop that looks for text in the text map
    pse_targets,
    dict(
        type='mmpse_ext.TextAwareRandomCrop',
        crop_size=train_crop_size,
        text_crop_prob=train_text_crop_prob),
    dict(type='mmpse_ext.PackPSEInputs', meta_keys=pack_meta_keys),
]

# Annotations are loaded after the resize (MMOCR's convention), so gt polygons stay in original
# coordinates; the resize records scale_factor for mapping predictions back.
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(
        type='mmpse_ext.LimitSideResize',
        limit_side_len=test_limit_side_len,
        limit_type=test_limit_type,
        size_divisor=test_size_divisor,
        max_pixels=test_max_pixels,
        max_side=test_max_side),
    dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True, with_label=True),
    dict(type='mmpse_ext.PackPSEInputs', meta_keys=pack_meta_keys),
]

# PaddleOCR: batch 8 per card, 8 workers; evaluation one image at a time.
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='mmpse_ext.ICDAR2015Dataset',
        data_root=icdar2015_data_root,
        ann_format=icdar2015_ann_format,
        split='train',
        pipeline=train_pipeline))

val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='mmpse_ext.ICDAR2015Dataset',
        data_root=icdar2015_data_root,
        ann_format=icdar2015_ann_format,
        split='test',
        pipeline=test_pipeline))

test_dataloader = val_dataloader
