# Light PSENet for the CPU demo: mmdet ResNet18-vd + a 64-channel FPN (256-channel concat) + head.
_base_ = ['pse_r50vd_fpn.py']

model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    det_head=dict(in_channels=256, hidden_dim=64))
