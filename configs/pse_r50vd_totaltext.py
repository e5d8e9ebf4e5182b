# PSENet, ResNet50-vd + FPN, Total-Text (curved words): the flagship's model and training
# machinery (configs/pse_r50vd_icdar15.py) with the official PSENet's Total-Text data, scales,
# kernels and `poly` output, evaluated with Total-Text's DetEval protocol. Every item and its
# source: docs/recipe.md, "CTW1500 and Total-Text".
#
#   tools/dist_train.sh configs/pse_r50vd_totaltext.py 4       # 4 GPUs x batch 8, AMP, SyncBN
#   python tools/test.py configs/pse_r50vd_totaltext.py work_dirs/pse_r50vd_totaltext/best_*.pth
#
# Data = the released folders under data_root (ann_format='totaltext'):
#   Images/Train/imgN.jpg + txt_format/Train/poly_gt_imgN.txt   ('#' = don't care)
#   Images/Test/imgN.jpg  + txt_format/Test/poly_gt_imgN.txt
# Data made by MMOCR's dataset preparer: ann_format='mmocr' (textdet_{train,test}.json).
# The pipelines are CTW1500's (configs/_base_/datasets/ctw1500.py): the official PSENet uses the
# same data recipe for both sets.
_base_ = ['pse_r50vd_ctw1500.py']

totaltext_data_root = 'data/totaltext'
curved_ann_format = 'totaltext'
train_dataloader = dict(dataset=dict(data_root=totaltext_data_root, ann_format=curved_ann_format))
val_dataloader = dict(dataset=dict(data_root=totaltext_data_root, ann_format=curved_ann_format))
test_dataloader = val_dataloader

# The official Total-Text test_cfg: min_score 0.87 (0.85 for CTW1500), the rest as CTW1500.
model = dict(det_head=dict(postprocessor=dict(score_threshold=0.87)))

# DetEval (whai362/PSENet eval/tt/Deteval.py: tr 0.7, tp 0.6, one-to-one, split and merged
# matches, detections inside '#' regions dropped)
val_evaluator = dict(_delete_=True, type='mmpse_ext.TotalTextDetEvalMetric')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='totaltext_deteval/hmean'))
