"""Online hard example mining (OHEM) for PSENet's text map: which pixels the text dice sees."""
import torch
from torch import Tensor

#: Accepted values of ``negatives``; 'image' is PaddleOCR's rule (docs/recipe.md).
OHEM_NEGATIVES = ('image', 'mask')


def ohem_text_mask(scores: Tensor,
                   gt_text: Tensor,
                   train_mask: Tensor,
                   image_area: Tensor,
                   ohem_ratio: float = 3.0,
                   negatives: str = 'image') -> Tensor:
    """Select every positive and the hardest negatives of each sample's text map.

    ``negatives='image'`` is PaddleOCR's ``PSELoss.ohem_single`` (``ppocr/losses/
    det_pse_loss.py``), see docs/recipe.md: with ``text = gt_text > 0.5``,

    - ``pos = #text - #(text & train_mask <= 0.5)`` (positives inside the training mask);
    - negatives are the pixels with ``gt_text <= 0.5`` anywhere in the image, also where the
      training mask is 0; ``k = min(int(ohem_ratio * pos), #negatives)``;
    - ``threshold`` = the k-th largest score among those negatives;
    - selected = ``(score >= threshold | text) & train_mask > 0.5``: every pixel tied with the
      threshold is kept, and negatives that the mask removes still used up their share of k;
    - ``pos == 0`` or ``k == 0``: selected = the training mask.

    ``negatives='mask'`` counts and ranks only the negatives inside the training mask and keeps
    exactly ``k`` of them (ties broken arbitrarily), so masked-out pixels never take a share of
    the budget and the number of negatives does not depend on ties.

    "The image" is the extent of the sample's targets: the zero padding that batching adds
    (``image_area`` 0) is neither positive nor negative (Paddle's training crops are never
    padded, so there the two agree).

    Args:
        scores (Tensor): ``[N, H, W]`` float text scores; PaddleOCR ranks the upsampled text
            *logits* (not their sigmoid, which would tie saturated pixels).
        gt_text (Tensor): ``[N, H, W]`` float text target in {0, 1}.
        train_mask (Tensor): ``[N, H, W]`` float in {0, 1}; 0 = excluded from the loss.
        image_area (Tensor): ``[N, H, W]`` float in {0, 1}; 0 = batch padding.
        ohem_ratio (float): negatives kept per positive (3 in PaddleOCR).
        negatives (str): ``'image'`` (PaddleOCR) or ``'mask'``, as above.

    Returns:
        Tensor: ``[N, H, W]`` float32 in {0, 1}, the pixels the text dice is computed on.
    """
    if negatives not in OHEM_NEGATIVES:
        raise ValueError(f'ohem_text_mask: negatives must be one of {OHEM_NEGATIVES}, '
                         f'got {negatives!r}')
    select = _select_over_image if negatives == 'image' else _select_inside_mask
    return torch.stack([
        select(score, gt, mask, area, ohem_ratio)
        for score, gt, mask, area in zip(scores, gt_text, train_mask, image_area)
    ])


def _select_over_image(score: Tensor, gt_text: Tensor, train_mask: Tensor, image_area: Tensor,
                       ohem_ratio: float) -> Tensor:
    """PaddleOCR's rule for one ``[H, W]`` sample (see :func:`ohem_text_mask`)."""
    text = gt_text > 0.5
    valid = train_mask > 0.5
    num_pos = int(text.sum()) - int((text & ~valid).sum())
    negative = ~text & (image_area > 0.5)
    num_neg = min(int(num_pos * ohem_ratio), int(negative.sum()))
    if num_pos == 0 or num_neg == 0:
        return train_mask.float()
    negative_scores = score[negative]
    # k-th largest = (n - k + 1)-th smallest; the value is the same whatever the ties.
    threshold = negative_scores.kthvalue(negative_scores.numel() - num_neg + 1).values
    return (((score >= threshold) | text) & valid).float()


def _select_inside_mask(score: Tensor, gt_text: Tensor, train_mask: Tensor, image_area: Tensor,
                        ohem_ratio: float) -> Tensor:
    """The in-mask rule for one ``[H, W]`` sample (see :func:`ohem_text_mask`)."""
    valid = (train_mask > 0.5) & (image_area > 0.5)
    positive = (gt_text > 0.5) & valid
    negative = (gt_text <= 0.5) & valid
    num_pos = int(positive.sum())
    num_neg = min(int(num_pos * ohem_ratio), int(negative.sum()))
    if num_pos == 0 or num_neg == 0:
        return valid.float()
    negative_index = negative.flatten().nonzero().squeeze(1)
    hardest = score.flatten()[negative_index].topk(num_neg, sorted=False).indices
    chosen = positive.flatten().clone()
    chosen[negative_index[hardest]] = True
    return chosen.view_as(valid).float()
