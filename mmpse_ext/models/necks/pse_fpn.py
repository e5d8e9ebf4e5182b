"""The FPN neck of PaddleOCR's PSENet recipe: four levels fused by concatenation at stride 4."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpse_ext.registry import MODELS

#: Paddle's FPN ``BatchNorm2D(momentum=0.1)`` in torch's momentum convention.
PADDLE_FPN_NORM_CFG = dict(type='BN', momentum=0.9)


@MODELS.register_module()
class PSEFPN(BaseModule):
    """Feature pyramid of PaddleOCR's ``det_r50_vd_pse`` (``ppocr/modeling/necks/fpn.py``).

    1×1 Conv-BN-ReLU laterals bring the four backbone levels (strides 4, 8, 16, 32) to
    ``out_channels``; the top-down path upsamples ×2 (bilinear, ``align_corners=False`` — Paddle's
    ``F.upsample`` default, ``align_mode=0``), adds the lateral and smooths with a 3×3
    Conv-BN-ReLU; the output concatenates ``[p2, up2(p3), up4(p4), up8(p5)]`` at stride 4. Unlike
    MMOCR's ``FPNF`` there is no fusion convolution after the concatenation (the head's 3×3
    convolution does that). ``ConvModule``'s default initialisation (Kaiming normal, fan-out,
    BN weight 1 / bias 0) is the one Paddle's FPN uses.

    Paddle builds this neck's BN layers with ``BatchNorm2D(momentum=0.1)``, and Paddle's convention
    is ``running = momentum * running + (1 - momentum) * batch``, i.e. torch ``momentum=0.9``: the
    default ``norm_cfg`` (docs/recipe.md). The backbone and the head use Paddle's default
    (torch 0.1). ``torch.nn.SyncBatchNorm.convert_sync_batchnorm`` keeps the momentum.

    Args:
        in_channels (Sequence[int]): channels of the four inputs, finest first;
            ``(256, 512, 1024, 2048)`` for ResNet50.
        out_channels (int): channels of every pyramid level; the output has ``4 * out_channels``.
        norm_cfg (dict): normalisation layer config; the default is Paddle's FPN BatchNorm.
        init_cfg (dict, optional): mmengine initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (256, 512, 1024, 2048),
                 out_channels: int = 256,
                 norm_cfg: Dict = PADDLE_FPN_NORM_CFG,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != 4:
            raise ValueError(f'PSEFPN: in_channels must list 4 levels, got {list(in_channels)}')
        self.in_channels = list(in_channels)
        self.out_channels = out_channels

        def conv_bn_relu(in_ch: int, kernel_size: int) -> ConvModule:
            return ConvModule(
                in_ch,
                out_channels,
                kernel_size,
                padding=kernel_size // 2,
                norm_cfg=norm_cfg,
                act_cfg=dict(type='ReLU'))

        # lateral_convs[i] reads level i (stride 4 * 2**i); smooth_convs[i] follows the top-down
        # addition at level i (levels 0..2; the coarsest level has no smoothing).
        self.lateral_convs = nn.ModuleList(conv_bn_relu(ch, 1) for ch in self.in_channels)
        self.smooth_convs = nn.ModuleList(conv_bn_relu(out_channels, 3) for _ in range(3))

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """Fuse the backbone levels.

        Args:
            inputs (Sequence[Tensor]): 4 feature maps ``[N, in_channels[i], H_i, W_i]``, finest
                (stride 4) first, each level half the size of the previous one.

        Returns:
            Tensor: ``[N, 4 * out_channels, H_0, W_0]`` float, channel blocks ``p2, p3, p4, p5``.
        """
        if len(inputs) != 4:
            raise ValueError(f'PSEFPN.forward: expected 4 feature levels, got {len(inputs)}')
        laterals = [conv(x) for conv, x in zip(self.lateral_convs, inputs)]
        pyramid = [laterals[3]]
        for level in (2, 1, 0):
            # `size=` equals Paddle's `scale_factor=2` when the input is a multiple of 32 and
            # also copes with odd sizes.
            top_down = F.interpolate(
                pyramid[0], size=laterals[level].shape[-2:], mode='bilinear', align_corners=False)
            pyramid.insert(0, self.smooth_convs[level](top_down + laterals[level]))
        size = pyramid[0].shape[-2:]
        upsampled = [
            F.interpolate(level, size=size, mode='bilinear', align_corners=False)
            for level in pyramid[1:]
        ]
        return torch.cat([pyramid[0]] + upsampled, dim=1)
