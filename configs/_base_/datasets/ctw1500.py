# SCUT-CTW1500 for PSENet: the official PSENet's CTW1500 data recipe (whai362/PSENet
# config/psenet/psenet_r50_ctw*.py, dataset/psenet/psenet_ctw.py) on our transforms; every item
# and its source: docs/recipe.md, "CTW1500 and Total-Text".
#
# Data = the released folders under data_root (ann_format='ctw1500'):
#   train_images/NNNN.jpg + ctw1500_train_labels/NNNN.xml     (training labels, 14 points)
#   test_images/NNNN.jpg  + gt_ctw1500/000NNNN.txt            (test labels, '###' = don't care)
# The official PSENet's text_label_curve/NNNN.txt files read too (set ann_file to that folder);
# data made by MMOCR's dataset preparer: ann_format='mmocr' (textdet_{train,test}.json).
# Every size is a variable below, so small-size variants override only what differs.

ctw1500_data_root = 'data/ctw1500'
curved_ann_format = 'ctw1500'

train_short_side = 736  # random_scale(short_size=736)
train_short_side_range = (0.7, 1.3)  # short side 736 x U(0.7, 1.3) (official: one of 0.7 .. 1.3)
train_max_angle = 10  # random_rotate, +-10 degrees, image size kept
train_crop_size = (736, 736)  # img_size=736: random_crop_padding window
train_text_crop_prob = 5 / 8  # random_crop_padding: text-aware draw unless random() <= 3/8
test_short_side = 736  # scale_aligned_short(short_size=736)
size_divisor = 32  # both sides rounded up to multiples of 32

pack_meta_keys = ('img_path', 'ori_shape', 'img_shape', 'scale_factor')

# kernel_num=7, min_scale=0.7: rates 0.95, 0.90, ... 0.70 for the 6 trained kernels (PaddleOCR's
# MakePseGt formula with the official CTW1500 / Total-Text min_scale; the text map keeps the
# flagship's rule, see docs/recipe.md)
pse_targets = dict(type='mmpse_ext.PSETargets', kernel_num=7, min_shrink_ratio=0.7)

train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation', ignore_empty=True),
    dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True, with_label=True),
    dict(type='TorchVisionWrapper', op='ColorJitter', brightness=32.0 / 255, saturation=0.5),
    # MMOCR's transform: short side to 736 x ratio, sides rounded up to multiples of 32
    dict(
        type='ShortScaleAspectJitter',
        short_size=train_short_side,
        ratio_range=train_short_side_range,
        aspect_ratio_range=(1.0, 1.0),
        scale_divisor=size_divisor),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpse_ext.RandomRotateKeepSize', max_angle=train_max_angle),
    pse_targets,
    # images whose short side is below 736 are padded with zeros, left out of the loss
    dict(
        type='mmpse_ext.TextAwareRandomCrop',
        crop_size=train_crop_size,
        text_crop_prob=train_text_crop_prob,
        pad=True),
    dict(type='mmpse_ext.PackPSEInputs', meta_keys=pack_meta_keys),
]

# short side to exactly 736 (up or down), sides rounded up to multiples of 32; annotations loaded
# after the resize (MMOCR's convention), so gt polygons stay in original coordinates
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(
        type='ShortScaleAspectJitter',
        short_size=test_short_side,
        ratio_range=(1.0, 1.0),
        aspect_ratio_range=(1.0, 1.0),
        scale_divisor=size_divisor),
    dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True, with_label=True),
    dict(type='mmpse_ext.PackPSEInputs', meta_keys=pack_meta_keys),
]

# the flagship's loaders: batch 8 per GPU, 8 workers; evaluation one image at a time
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='mmpse_ext.TextDetDataset',
        data_root=ctw1500_data_root,
        ann_format=curved_ann_format,
        split='train',
        pipeline=train_pipeline))

val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='mmpse_ext.TextDetDataset',
        data_root=ctw1500_data_root,
        ann_format=curved_ann_format,
        split='test',
        pipeline=test_pipeline))

test_dataloader = val_dataloader
