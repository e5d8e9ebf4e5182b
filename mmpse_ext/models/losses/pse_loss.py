"""PSENet loss of PaddleOCR's recipe: dice with OHEM on the text map, dice on the kernels."""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpse_ext.registry import MODELS


@MODELS.register_module()
class PSELoss(nn.Module):
    """Dice loss on the text map (OHEM 3:1) and on the kernels (masked by the predicted text).

    Follows PaddleOCR's ``PSELoss`` (``ppocr/losses/det_pse_loss.py``): the logits are upsampled
    ×``logit_stride`` to the (padded) input size (Paddle: ``F.interpolate`` with its default
    ``'nearest'`` mode); per sample, dice ``1 - 2Σpt / (Σp² + Σt² + 2·eps)`` on ``sigmoid``;
    the text term keeps every positive pixel and the ``ohem_ratio × #positives`` negatives with
    the highest text logit, inside the training mask; the kernel terms are masked by the
    predicted text (``logit > 0``, i.e. ``sigmoid > 0.5``) times the training mask and averaged
    over the kernels; ``loss = text_weight · text + (1 - text_weight) · kernels``.

    Differences from Paddle (deliberate): negatives are counted and chosen inside the training
    mask only and exactly ``min(ohem_ratio · #pos, #neg)`` of them are kept (Paddle counts
    negatives over the whole image and keeps every pixel tied with the threshold).

    Batch reduction: ``'sum'`` (default) adds the per-sample losses like the recipe, so the loss
    of a batch grows with its size; with Adam this only matters through the balance against
    the coupled L2 weight decay, for which the recipe's value (5e-4) was tuned. ``'mean'``
    averages instead.

    The loss is always computed in float32 with autocast disabled (AMP-safe). Images without
    text, or with only ignored text, give a finite constant dice (1 - 0) and no gradient.

    Logged keys: ``loss_text`` and ``loss_kernel`` are already weighted (mmengine sums every key
    that contains ``'loss'``, so they add up to the total); ``iou_text`` / ``iou_kernel`` are
    detached monitors (batch mean of the mean IoU over background and text, as Paddle's
    ``ppocr.utils.iou``, for the text map inside the training mask and for the smallest kernel
    inside the ground-truth text).

    Args:
        text_weight (float): weight of the text term (Paddle's ``alpha``); 0.7 in the recipe.
        ohem_ratio (float): negatives kept per positive text pixel.
        kernel_sample_mask (str): ``'pred'`` (predicted text × training mask, the recipe) or
            ``'gt'`` (ground-truth text × training mask) as the kernel dice mask.
        reduction (str): ``'sum'`` or ``'mean'`` over the batch.
        eps (float): added to each of Σp² and Σt² in the dice denominator.
        logit_stride (int): ratio between the input size and the logit size.
        upsample_mode (str): ``F.interpolate`` mode for the logits; ``'nearest'`` as Paddle,
            ``'bilinear'`` as the official PSENet.
    """

    def __init__(self,
                 text_weight: float = 0.7,
                 ohem_ratio: float = 3.0,
                 kernel_sample_mask: str = 'pred',
                 reduction: str = 'sum',
                 eps: float = 1e-6,
                 logit_stride: int = 4,
                 upsample_mode: str = 'nearest') -> None:
        super().__init__()
        if not 0.0 <= text_weight <= 1.0:
            raise ValueError(f'PSELoss: text_weight must be in [0, 1], got {text_weight}')
        if ohem_ratio <= 0:
            raise ValueError(f'PSELoss: ohem_ratio must be > 0, got {ohem_ratio}')
        if kernel_sample_mask not in ('pred', 'gt'):
            raise ValueError(
                f"PSELoss: kernel_sample_mask must be 'pred' or 'gt', got {kernel_sample_mask!r}")
        if reduction not in ('sum', 'mean'):
            raise ValueError(f"PSELoss: reduction must be 'sum' or 'mean', got {reduction!r}")
        if upsample_mode not in ('nearest', 'bilinear'):
            raise ValueError(
                f"PSELoss: upsample_mode must be 'nearest' or 'bilinear', got {upsample_mode!r}")
        self.text_weight = text_weight
        self.ohem_ratio = ohem_ratio
        self.kernel_sample_mask = kernel_sample_mask
        self.reduction = reduction
        self.eps = eps
        self.logit_stride = logit_stride
        self.upsample_mode = upsample_mode

    def forward(self, preds: Tensor, data_samples: Sequence) -> Dict[str, Tensor]:
        """Compute the loss terms.

        Args:
            preds (Tensor): logits ``[N, K, h, w]`` from the head (any float dtype).
            data_samples (Sequence[TextDetDataSample]): N samples carrying ``gt_kernels``
                (Tensor[K, H, W] uint8) and ``gt_train_mask`` (Tensor[H, W] uint8) with
                ``H <= logit_stride * h`` and ``W <= logit_stride * w``.

        Returns:
            dict[str, Tensor]: scalar ``loss_text``, ``loss_kernel`` (weighted, differentiable)
            and ``iou_text``, ``iou_kernel`` (detached monitors).
        """
        if preds.dim() != 4 or preds.shape[1] < 2:
            raise ValueError(f'PSELoss: preds must be [N, K >= 2, h, w], got {list(preds.shape)}')
        if len(data_samples) != preds.shape[0]:
            raise ValueError(f'PSELoss: {preds.shape[0]} predictions but {len(data_samples)} '
                             'data samples')
        size = (preds.shape[2] * self.logit_stride, preds.shape[3] * self.logit_stride)
        with torch.autocast(device_type=preds.device.type, enabled=False):
            gt_kernels, train_mask = self.get_targets(data_samples, preds.shape[1], size,
                                                      preds.device)
            logits = F.interpolate(preds.float(), size=size, mode=self.upsample_mode)
            text_logits, kernel_logits = logits[:, 0], logits[:, 1:]
            gt_text, gt_kernel = gt_kernels[:, 0], gt_kernels[:, 1:]

            selected = self.ohem_mask(text_logits.detach(), gt_text, train_mask)
            dice_text = self.dice_loss(text_logits[:, None], gt_text[:, None], selected)[:, 0]

            if self.kernel_sample_mask == 'pred':
                kernel_mask = (text_logits.detach() > 0).float() * train_mask
            else:
                kernel_mask = gt_text * train_mask
            dice_kernel = self.dice_loss(kernel_logits, gt_kernel, kernel_mask).mean(dim=1)

            reduce = torch.sum if self.reduction == 'sum' else torch.mean
            with torch.no_grad():
                iou_text = self.mean_iou(text_logits > 0, gt_text, train_mask).mean()
                iou_kernel = self.mean_iou(kernel_logits[:, -1] > 0, gt_kernel[:, -1],
                                           gt_text * train_mask).mean()
            return dict(
                loss_text=self.text_weight * reduce(dice_text),
                loss_kernel=(1.0 - self.text_weight) * reduce(dice_kernel),
                iou_text=iou_text,
                iou_kernel=iou_kernel)

    @staticmethod
    def get_targets(data_samples: Sequence, num_maps: int, size: Tuple[int, int],
                    device: torch.device) -> Tuple[Tensor, Tensor]:
        """Stack the packed targets, zero-padded at the bottom/right to ``size``.

        Args:
            data_samples (Sequence[TextDetDataSample]): samples with ``gt_kernels`` and
                ``gt_train_mask``.
            num_maps (int): K, the number of predicted maps the targets must match.
            size (tuple[int, int]): (H, W) of the upsampled logits.
            device (torch.device): where the targets go.

        Returns:
            tuple[Tensor, Tensor]: kernels ``[N, K, H, W]`` float32 in {0, 1} and the training
            mask ``[N, H, W]`` float32 in {0, 1} (0 in the padding).
        """
        kernels: List[Tensor] = []
        masks: List[Tensor] = []
        for index, sample in enumerate(data_samples):
            for field in ('gt_kernels', 'gt_train_mask'):
                if field not in sample:
                    raise KeyError(
                        f'PSELoss: data sample {index} has no {field}; the training pipeline '
                        'must make PSE targets and pack them (mmpse_ext.PackPSEInputs)')
            gt = torch.as_tensor(sample.gt_kernels)
            mask = torch.as_tensor(sample.gt_train_mask)
            if gt.dim() != 3 or gt.shape[0] != num_maps:
                raise ValueError(f'PSELoss: data sample {index} gt_kernels has shape '
                                 f'{list(gt.shape)}, expected [{num_maps}, H, W]')
            if mask.shape != gt.shape[1:]:
                raise ValueError(f'PSELoss: data sample {index} gt_train_mask has shape '
                                 f'{list(mask.shape)}, expected {list(gt.shape[1:])}')
            pad_h, pad_w = size[0] - gt.shape[1], size[1] - gt.shape[2]
            if pad_h < 0 or pad_w < 0:
                raise ValueError(f'PSELoss: data sample {index} targets are {list(gt.shape[1:])}'
                                 f', larger than the upsampled logits {list(size)}')
            kernels.append(F.pad(gt.to(device, torch.float32), (0, pad_w, 0, pad_h)))
            masks.append(F.pad(mask.to(device, torch.float32), (0, pad_w, 0, pad_h)))
        return torch.stack(kernels), torch.stack(masks)

    def dice_loss(self, logits: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        """Per-sample, per-map dice loss.

        Args:
            logits (Tensor): ``[N, C, H, W]`` float32.
            target (Tensor): ``[N, C, H, W]`` float32 in {0, 1}.
            mask (Tensor): ``[N, H, W]`` float32 in {0, 1}, shared by the C maps.

        Returns:
            Tensor: ``[N, C]`` float32, ``1 - 2Σpt / (Σp² + Σt² + 2·eps)`` over masked pixels.
        """
        mask = mask[:, None]
        prob = torch.sigmoid(logits) * mask
        target = target * mask
        intersection = (prob * target).flatten(2).sum(-1)
        denominator = (prob * prob).flatten(2).sum(-1) + (target * target).flatten(2).sum(-1)
        return 1.0 - 2.0 * intersection / (denominator + 2.0 * self.eps)

    def ohem_mask(self, text_logits: Tensor, gt_text: Tensor, train_mask: Tensor) -> Tensor:
        """Online hard example mining for the text map.

        Args:
            text_logits (Tensor): ``[N, H, W]`` float32 text logits (no gradient needed).
            gt_text (Tensor): ``[N, H, W]`` float32 in {0, 1}.
            train_mask (Tensor): ``[N, H, W]`` float32 in {0, 1}.

        Returns:
            Tensor: ``[N, H, W]`` float32 in {0, 1}: all positives inside the training mask and
            the ``min(ohem_ratio · #pos, #neg)`` negatives with the highest logits; the whole
            training mask when a sample has no positive or no negative pixel.
        """
        selected = []
        for logits, gt, mask in zip(text_logits, gt_text, train_mask):
            valid = mask > 0.5
            positive = (gt > 0.5) & valid
            negative = (gt <= 0.5) & valid
            num_pos = int(positive.sum())
            num_neg = min(int(num_pos * self.ohem_ratio), int(negative.sum()))
            if num_pos == 0 or num_neg == 0:
                selected.append(valid.float())
                continue
            negative_index = negative.flatten().nonzero().squeeze(1)
            hardest = logits.flatten()[negative_index].topk(num_neg, sorted=False).indices
            chosen = positive.flatten().clone()
            chosen[negative_index[hardest]] = True
            selected.append(chosen.view_as(mask).float())
        return torch.stack(selected)

    @staticmethod
    def mean_iou(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        """Per-sample mean IoU of the background and foreground classes inside a mask.

        Args:
            pred (Tensor): ``[N, H, W]`` bool prediction.
            target (Tensor): ``[N, H, W]`` float32 in {0, 1}.
            mask (Tensor): ``[N, H, W]`` float32 in {0, 1}.

        Returns:
            Tensor: ``[N]`` float32; a class absent from both prediction and target scores 0, as
            in Paddle's ``ppocr.utils.iou``.
        """
        valid = mask > 0.5
        target = target > 0.5
        ious = []
        for pred_class, target_class in ((~pred, ~target), (pred, target)):
            inter = (pred_class & target_class & valid).flatten(1).sum(1).float()
            union = ((pred_class | target_class) & valid).flatten(1).sum(1).float()
            ious.append(inter / (union + 1e-6))
        return (ious[0] + ious[1]) / 2
