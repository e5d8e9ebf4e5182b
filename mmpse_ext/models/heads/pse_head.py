"""PSENet head of PaddleOCR's recipe: 3×3 Conv-BN-ReLU then 1×1 convolution to K logit maps."""
from typing import Dict, List, Optional, Union

from mmcv.cnn import build_norm_layer
from mmocr.models.textdet.heads import BaseTextDetHead
from torch import Tensor, nn

from mmpse_ext.registry import MODELS


@MODELS.register_module()
class PSEHead(BaseTextDetHead):
    """Predicts the text map and the shrunk kernels as logits at the neck's resolution (1/4).

    Layout of PaddleOCR's ``PSEHead`` (``ppocr/modeling/heads/det_pse_head.py``): a 3×3
    convolution *with bias* followed by BN and ReLU, then a 1×1 convolution with bias. Channel 0
    is the text map, channels ``1..K-1`` the kernels from largest to smallest. The loss and the
    post-processor are built from our scope (the defaults are written scoped because mmengine
    resolves unscoped nested types in the caller's default scope, ``mmocr``).

    Argument names follow MMOCR's ``PSEHead`` (``hidden_dim``, ``out_channel``).

    Args:
        in_channels (int): channels of the neck output (1024 for ``PSEFPN`` with 256 per level).
        hidden_dim (int): channels of the 3×3 convolution.
        out_channel (int): number of logit maps K (text + K - 1 kernels); 7 in the recipe.
        norm_cfg (dict): normalisation layer config.
        module_loss (dict, optional): loss config, ``None`` for inference-only heads.
        postprocessor (dict, optional): post-processor config.
        init_cfg (dict or list[dict], optional): initialisation; the default is Paddle's
            (convolutions Kaiming normal fan-in with zero bias, BN weight 1 and bias 0).
    """

    def __init__(self,
                 in_channels: int = 1024,
                 hidden_dim: int = 256,
                 out_channel: int = 7,
                 norm_cfg: Dict = dict(type='BN'),
                 module_loss: Optional[Dict] = dict(type='mmpse_ext.PSELoss'),
                 postprocessor: Optional[Dict] = dict(
                     type='mmpse_ext.PSEPostprocessor', text_repr_type='quad'),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = [
                     dict(type='Kaiming', layer='Conv2d', mode='fan_in', nonlinearity='relu',
                          distribution='normal', bias=0.),
                     dict(type='Constant', layer='_BatchNorm', val=1., bias=0.)
                 ]) -> None:
        super().__init__(module_loss=module_loss, postprocessor=postprocessor, init_cfg=init_cfg)
        if out_channel < 1:
            raise ValueError(f'PSEHead: out_channel must be >= 1, got {out_channel}')
        self.in_channels = in_channels
        self.out_channel = out_channel
        # Conv (with bias, as Paddle) → BN → ReLU, spelled out: mmcv's ConvModule warns about
        # a bias before a norm layer.
        self.fuse_conv = nn.Conv2d(in_channels, hidden_dim, 3, padding=1)
        self.fuse_bn = build_norm_layer(norm_cfg, hidden_dim)[1]
        self.relu = nn.ReLU(inplace=True)
        self.out_conv = nn.Conv2d(hidden_dim, out_channel, 1)

    def forward(self, inputs: Tensor, data_samples: Optional[List] = None) -> Tensor:
        """Compute the logit maps.

        Args:
            inputs (Tensor): neck output ``[N, in_channels, H, W]`` float.
            data_samples (list, optional): unused; part of MMOCR's head interface.

        Returns:
            Tensor: logits ``[N, out_channel, H, W]`` float (no sigmoid applied).
        """
        if inputs.dim() != 4 or inputs.shape[1] != self.in_channels:
            raise ValueError(f'PSEHead.forward: expected [N, {self.in_channels}, H, W] input, '
                             f'got {list(inputs.shape)}')
        return self.out_conv(self.relu(self.fuse_bn(self.fuse_conv(inputs))))
