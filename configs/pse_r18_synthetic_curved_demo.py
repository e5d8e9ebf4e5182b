# CPU curved-text demo (.dev_scripts/run_curved_demo.sh): the CPU demo's small PSENet
# (configs/pse_r18_synthetic_demo.py: half-width ResNet18-vd from scratch, 320 crops, 12 epochs)
# trained on the synthetic curved-text set (tools/dataset_converters/make_synthetic_curved.py:
# about half the words bent along arcs) read in its Total-Text layout, with `poly` output and
# two protocols: Total-Text's DetEval and the IoU protocol (ICDAR2015's matching on polygons).
#
# Deviations from configs/pse_r50vd_totaltext.py: those of the CPU demo (its header) plus the
# demo's data: 320-640 px scenes, test short side >= 320.
_base_ = ['pse_r18_synthetic_demo.py']

curved_data_root = 'data/synthetic_curved'
curved_ann_format = 'totaltext'
train_dataloader = dict(
    dataset=dict(
        type='mmpse_ext.TextDetDataset', data_root=curved_data_root, ann_format=curved_ann_format))
val_dataloader = dict(
    dataset=dict(
        type='mmpse_ext.TextDetDataset', data_root=curved_data_root, ann_format=curved_ann_format))
test_dataloader = val_dataloader

# the outer contour of each text's pixels instead of its minimum-area rectangle
model = dict(det_head=dict(postprocessor=dict(text_repr_type='poly')))

val_evaluator = [
    dict(type='mmpse_ext.TotalTextDetEvalMetric'),
    dict(type='mmpse_ext.ICDAR2015HmeanMetric', prefix='iou'),
]
test_evaluator = val_evaluator
