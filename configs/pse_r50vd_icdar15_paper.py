# PSENet, ResNet50-vd + FPN, ICDAR2015: the flagship recipe (configs/pse_r50vd_icdar15.py) with
# the PSENet paper's and our choices where they differ from PaddleOCR's code. Everything not
# switched below is the flagship's; docs/recipe.md lists each item with both values.
#
#   tools/dist_train.sh configs/pse_r50vd_icdar15_paper.py 4
_base_ = ['pse_r50vd_icdar15.py']

# Targets (mmpse_ext.PSETargets), one switch per line:
paper_pse_targets = dict(
    type='mmpse_ext.PSETargets',
    kernel_num=7,
    min_shrink_ratio=0.4,
    # the text map is the whole word, so the final expansion reaches the word's border
    full_text_map=True,
    # only the trained rates decide what is ignored: small words still teach the text map
    ignore_if_unused_rate_fails=False,
    # don't-care words are drawn in no channel: neither text for the crop nor non-negatives
    draw_ignored=False,
    # 1/16-pixel vertices: masks centred on the polygon, no truncation shift of up to 1 px
    rasterization='subpixel',
    # a shrink that splits keeps a kernel in every piece, not only in the first
    split_pieces='all')
# the text-aware crop always shows text (Paddle's range often only grazes it)
paper_crop_range = 'overlap'

train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation', ignore_empty=True),
    dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True, with_label=True),
    dict(type='TorchVisionWrapper', op='ColorJitter', brightness=32.0 / 255, saturation=0.5),
    dict(type='mmpse_ext.RandomScale', scale_range={{_base_.train_scale_range}}),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpse_ext.RandomRotateKeepSize', max_angle={{_base_.train_max_angle}}),
    dict(type='mmpse_ext.MinShortSideResize', min_short_side={{_base_.train_min_short_side}}),
    paper_pse_targets,
    dict(
        type='mmpse_ext.TextAwareRandomCrop',
        crop_size={{_base_.train_crop_size}},
        text_crop_prob={{_base_.train_text_crop_prob}},
        crop_range=paper_crop_range),
    dict(type='mmpse_ext.PackPSEInputs', meta_keys={{_base_.pack_meta_keys}}),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(
    det_head=dict(
        module_loss=dict(
            # OHEM negatives are counted and ranked inside the training mask, exactly 3 per positive
            ohem_negatives='mask',
            # the loss makes the same targets when a sample carries none (stock MMOCR pipelines)
            targets=paper_pse_targets)))
