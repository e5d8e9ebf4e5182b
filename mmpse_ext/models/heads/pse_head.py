"""PSENet head of PaddleOCR's recipe: 3×3 Conv-BN-ReLU then 1×1 convolution to K logit maps."""
from typing import Dict, List, Optional, Sequence, Union

import torch
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

    Argument names follow MMOCR's ``PSEHead`` (``in_channels``, ``hidden_dim``,
    ``out_channel``). As there, ``in_channels`` may list the channels of several same-size
    feature maps: they are concatenated along the channels before the first convolution, which
    then reads their sum (MMOCR's ``PANHead`` does the same). ``in_channels=[1024]`` equals 1024.

    Args:
        in_channels (int | Sequence[int]): channels of the neck output (1024 for ``PSEFPN`` with
            256 per level), or of each of the maps the neck returns as a tuple.
        hidden_dim (int): channels of the 3×3 convolution.
        out_channel (int): number of logit maps K (text + K - 1 kernels); 7 in the recipe.
        norm_cfg (dict): normalisation layer config.
        module_loss (dict, optional): loss config, ``None`` for inference-only heads.
        postprocessor (dict, optional): post-processor config.
        init_cfg (dict or list[dict], optional): initialisation; the default is Paddle's
            (convolutions Kaiming normal fan-in with zero bias, BN weight 1 and bias 0).
    """

    def __init__(
        self,
        in_channels: Union[int, Sequence[int]] = 1024,
        hidden_dim: int = 256,
        out_channel: int = 7,
        norm_cfg: Dict = dict(type='BN'),
        module_loss: Optional[Dict] = dict(type='mmpse_ext.PSELoss'),
        postprocessor: Optional[Dict] = dict(
            type='mmpse_ext.PSEPostprocessor', text_repr_type='quad'),
        init_cfg: Optional[Union[Dict, List[Dict]]] = [
            dict(
                type='Kaiming',
                layer='Conv2d',
                mode='fan_in',
                nonlinearity='relu',
                distribution='normal',
                bias=0.),
            dict(type='Constant', layer='_BatchNorm', val=1., bias=0.)
        ]
    ) -> None:
        super().__init__(module_loss=module_loss, postprocessor=postprocessor, init_cfg=init_cfg)
        if out_channel < 1:
            raise ValueError(f'PSEHead: out_channel must be >= 1, got {out_channel}')
        self.in_channels_per_input = self._channel_list(in_channels)
        self.in_channels = sum(self.in_channels_per_input)
        self.out_channel = out_channel
        # Conv (with bias, as Paddle) → BN → ReLU, spelled out: mmcv's ConvModule warns about
        # a bias before a norm layer.
        self.fuse_conv = nn.Conv2d(self.in_channels, hidden_dim, 3, padding=1)
        self.fuse_bn = build_norm_layer(norm_cfg, hidden_dim)[1]
        self.relu = nn.ReLU(inplace=True)
        self.out_conv = nn.Conv2d(hidden_dim, out_channel, 1)

    @staticmethod
    def _channel_list(in_channels: Union[int, Sequence[int]]) -> List[int]:
        """``in_channels`` as a list of positive ints (an int is one input)."""
        if isinstance(in_channels, int) and not isinstance(in_channels, bool):
            channels = [in_channels]
        elif (isinstance(in_channels, (list, tuple)) and in_channels
              and all(isinstance(c, int) and not isinstance(c, bool) for c in in_channels)):
            channels = list(in_channels)
        else:
            raise TypeError('PSEHead: in_channels must be an int or a non-empty list of ints '
                            f'(MMOCR style, e.g. [1024]), got {in_channels!r}')
        if min(channels) < 1:
            raise ValueError(f'PSEHead: in_channels must be positive, got {in_channels!r}')
        return channels

    def forward(self,
                inputs: Union[Tensor, Sequence[Tensor]],
                data_samples: Optional[List] = None) -> Tensor:
        """Compute the logit maps.

        Args:
            inputs (Tensor | Sequence[Tensor]): neck output ``[N, in_channels, H, W]`` float, or
                one map ``[N, in_channels[i], H, W]`` per entry of ``in_channels`` (concatenated).
            data_samples (list, optional): unused; part of MMOCR's head interface.

        Returns:
            Tensor: logits ``[N, out_channel, H, W]`` float (no sigmoid applied).
        """
        if isinstance(inputs, (list, tuple)):
            inputs = self._concatenate(inputs)
        if inputs.dim() != 4 or inputs.shape[1] != self.in_channels:
            raise ValueError(f'PSEHead.forward: expected [N, {self.in_channels}, H, W] input, '
                             f'got {list(inputs.shape)}')
        return self.out_conv(self.relu(self.fuse_bn(self.fuse_conv(inputs))))

    def _concatenate(self, inputs: Sequence[Tensor]) -> Tensor:
        """Concatenate MMOCR-style multi-map input along the channels, after checking it."""
        shapes = [list(x.shape) for x in inputs]
        channels = [shape[1] if len(shape) == 4 else None for shape in shapes]
        if channels != self.in_channels_per_input or len({tuple(s[2:]) for s in shapes}) != 1:
            raise ValueError(
                f'PSEHead.forward: expected {len(self.in_channels_per_input)} maps '
                f'[N, C, H, W] of one size with C = {self.in_channels_per_input}, got {shapes}')
        return torch.cat(list(inputs), dim=1)
