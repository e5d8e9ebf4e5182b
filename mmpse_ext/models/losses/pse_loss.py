"""PSENet loss of PaddleOCR's recipe: dice with OHEM on the text map, dice on the kernels."""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpse_ext.registry import MODELS
from .pse_loss_targets import PSELossTargets
from .text_ohem import OHEM_NEGATIVES, ohem_text_mask


@MODELS.register_module()
class PSELoss(nn.Module):
    """Dice loss on the text map (with OHEM) and on the kernels (masked by the predicted text).

    PaddleOCR's ``PSELoss`` (``ppocr/losses/det_pse_loss.py``) by default; docs/recipe.md lists
    each choice with Paddle's value. The logits are upsampled ×``logit_stride`` to the (padded)
    input size (Paddle: ``F.interpolate``, default ``'nearest'``). Per sample, dice
    ``1 - 2Σpt / (Σp² + Σt² + 2·eps)`` on ``sigmoid``. The text term sees the pixels chosen by
    :func:`~mmpse_ext.models.losses.text_ohem.ohem_text_mask` (every positive and the
    ``ohem_ratio × #positives`` hardest negatives by text logit). The kernel terms are masked by
    the predicted text (``sigmoid > 0.5``) times the training mask and averaged over the kernels;
    ``loss = text_weight · text + (1 - text_weight) · kernels``.

    Targets: the ``gt_kernels`` / ``gt_train_mask`` that our pipeline packs (docs/interfaces.md);
    a sample without them (a stock MMOCR pipeline) gets them made here from ``gt_instances`` by
    the ``targets`` transform, the same code as in the pipeline (see
    :class:`~mmpse_ext.models.losses.pse_loss_targets.PSELossTargets`).

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
        ohem_ratio (float): negatives kept per positive text pixel; 3 as in Paddle, whose
            ``ohem_batch`` uses 3 whatever its own ``ohem_ratio`` is set to.
        ohem_negatives (str): ``'image'`` (Paddle: negatives counted and ranked over the whole
            image, ties with the threshold kept, then the training mask applied) or ``'mask'``
            (negatives counted and ranked inside the training mask only, exactly
            ``ohem_ratio × #positives`` kept, so ignored regions take no share of them).
        kernel_sample_mask (str): ``'pred'`` (predicted text × training mask, the recipe) or
            ``'gt'`` (ground-truth text × training mask) as the kernel dice mask.
        reduction (str): ``'sum'`` or ``'mean'`` over the batch.
        eps (float): added to each of Σp² and Σt² in the dice denominator.
        logit_stride (int): ratio between the input size and the logit size.
        upsample_mode (str): ``F.interpolate`` mode for the logits; ``'nearest'`` as Paddle,
            ``'bilinear'`` as the official PSENet.
        targets (dict): config of the transform that makes the targets of samples that carry
            none; the default ``PSETargets`` is PaddleOCR's ``MakePseGt``. Type strings of our
            modules are written scoped (``'mmpse_ext.PSETargets'``).
    """

    def __init__(self,
                 text_weight: float = 0.7,
                 ohem_ratio: float = 3.0,
                 ohem_negatives: str = 'image',
                 kernel_sample_mask: str = 'pred',
                 reduction: str = 'sum',
                 eps: float = 1e-6,
                 logit_stride: int = 4,
                 upsample_mode: str = 'nearest',
                 targets: Dict = dict(type='mmpse_ext.PSETargets')) -> None:
        super().__init__()
        if not 0.0 <= text_weight <= 1.0:
            raise ValueError(f'PSELoss: text_weight must be in [0, 1], got {text_weight}')
        if ohem_ratio <= 0:
            raise ValueError(f'PSELoss: ohem_ratio must be > 0, got {ohem_ratio}')
        if ohem_negatives not in OHEM_NEGATIVES:
            raise ValueError(f'PSELoss: ohem_negatives must be one of {OHEM_NEGATIVES}, '
                             f'got {ohem_negatives!r}')
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
        self.ohem_negatives = ohem_negatives
        self.kernel_sample_mask = kernel_sample_mask
        self.reduction = reduction
        self.eps = eps
        self.logit_stride = logit_stride
        self.upsample_mode = upsample_mode
        self.targets = PSELossTargets(targets)

    def forward(self, preds: Tensor, data_samples: Sequence) -> Dict[str, Tensor]:
        """Compute the loss terms.

        Args:
            preds (Tensor): logits ``[N, K, h, w]`` from the head (any float dtype).
            data_samples (Sequence[TextDetDataSample]): N samples carrying either
                ``gt_kernels`` (Tensor[K, H, W] uint8) and ``gt_train_mask`` (Tensor[H, W]
                uint8), or ``gt_instances`` (``polygons``, ``ignored``) and ``img_shape``
                (H, W); ``H <= logit_stride * h`` and ``W <= logit_stride * w``.

        Returns:
            dict[str, Tensor]: float32 scalars ``loss_text``, ``loss_kernel`` (weighted,
            differentiable) and ``iou_text``, ``iou_kernel`` (detached monitors).
        """
        if preds.dim() != 4 or preds.shape[1] < 2:
            raise ValueError(f'PSELoss: preds must be [N, K >= 2, h, w], got {list(preds.shape)}')
        if len(data_samples) != preds.shape[0]:
            raise ValueError(f'PSELoss: {preds.shape[0]} predictions but {len(data_samples)} '
                             'data samples')
        size = (preds.shape[2] * self.logit_stride, preds.shape[3] * self.logit_stride)
        with torch.autocast(device_type=preds.device.type, enabled=False):
            gt_kernels, train_mask, image_area = self.targets(data_samples, preds.shape[1], size,
                                                              preds.device)
            logits = F.interpolate(preds.float(), size=size, mode=self.upsample_mode)
            text_logits, kernel_logits = logits[:, 0], logits[:, 1:]
            gt_text, gt_kernel = gt_kernels[:, 0], gt_kernels[:, 1:]

            selected = ohem_text_mask(text_logits.detach(), gt_text, train_mask, image_area,
                                      self.ohem_ratio, self.ohem_negatives)
            dice_text = self.dice_loss(text_logits[:, None], gt_text[:, None], selected)[:, 0]

            if self.kernel_sample_mask == 'pred':
                predicted_text = torch.sigmoid(text_logits.detach()) > 0.5
                kernel_mask = predicted_text.float() * train_mask
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
