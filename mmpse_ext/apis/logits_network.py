"""The part of a PSENet that is a graph: raw pixels in, 1/4-resolution logits out."""
from typing import NamedTuple

import torch
from torch import Tensor, nn


class InputNormalisation(NamedTuple):
    """What a ``TextDetDataPreprocessor`` does to the test pipeline's images, as constants.

    Attributes:
        swap_channels (bool): reverse the channel order first (``bgr_to_rgb``/``rgb_to_bgr``).
        mean (Tensor): ``[3]`` float32, subtracted after the swap.
        std (Tensor): ``[3]`` float32, divided by after subtracting.
        pad_value (float): value of the padding, in the normalised image.
        size_divisor (int): the batch is padded bottom/right to a multiple of this.
    """
    swap_channels: bool
    mean: Tensor
    std: Tensor
    pad_value: float
    size_divisor: int

    @classmethod
    def of(cls, preprocessor: nn.Module) -> 'InputNormalisation':
        """Read the constants of a built mmengine ``ImgDataPreprocessor`` (or subclass)."""
        if getattr(preprocessor, '_enable_normalize', False):
            mean = preprocessor.mean.detach().float().reshape(-1).cpu()
            std = preprocessor.std.detach().float().reshape(-1).cpu()
        else:
            mean, std = torch.zeros(3), torch.ones(3)
        return cls(
            swap_channels=bool(getattr(preprocessor, '_channel_conversion', False)),
            mean=mean,
            std=std,
            pad_value=float(getattr(preprocessor, 'pad_value', 0)),
            size_divisor=max(1, int(getattr(preprocessor, 'pad_size_divisor', 1) or 1)))

    def padding_pixel(self) -> Tensor:
        """The raw pixel value per input channel that normalises to ``pad_value``.

        mmengine pads *after* normalising; padding the raw image with ``mean + pad_value * std``
        instead gives the same network input (exactly 0 for the default ``pad_value = 0``,
        since ``mean - mean`` is exact in floating point).

        Returns:
            Tensor: ``[3]`` float32, in the input's (pre-swap) channel order.
        """
        pixel = self.mean + self.pad_value * self.std
        return pixel.flip(0) if self.swap_channels else pixel


class PSELogitsNetwork(nn.Module):
    """Data-preprocessor normalisation + backbone + neck + head of an MMOCR ``PSENet``.

    This is what ``tools/model_converters/export_onnx.py`` exports and what both inference
    backends run, so the PyTorch and ONNX Runtime paths compute the same function. Padding is
    left to the caller (:meth:`InputNormalisation.padding_pixel`); the post-processing
    (``pse_ext`` op and contours) is not part of it.

    Args:
        detector (nn.Module): a built MMOCR ``PSENet`` (``data_preprocessor``,
            ``extract_feat``, ``det_head``), normally in eval mode.
    """

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector
        self.normalisation = InputNormalisation.of(detector.data_preprocessor)
        self.swap_channels = self.normalisation.swap_channels
        self.register_buffer(
            'mean', self.normalisation.mean.reshape(1, -1, 1, 1).clone(), persistent=False)
        self.register_buffer(
            'std', self.normalisation.std.reshape(1, -1, 1, 1).clone(), persistent=False)

    def forward(self, images: Tensor) -> Tensor:
        """Logits of a batch of images.

        Args:
            images (Tensor): ``[N, 3, H, W]`` float32 pixel values 0-255 in the channel order
                the test pipeline loads (BGR for mmcv's loaders), padded as the data
                preprocessor pads (H and W multiples of ``normalisation.size_divisor``).

        Returns:
            Tensor: ``[N, K, H / 4, W / 4]`` float32 logits (channel 0 = text, K - 1 = the
            smallest kernel), as ``PSEHead.forward`` returns them.
        """
        if self.swap_channels:
            images = images[:, [2, 1, 0]]
        normalised = (images - self.mean) / self.std
        return self.detector.det_head(self.detector.extract_feat(normalised))
