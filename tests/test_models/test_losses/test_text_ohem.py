"""ohem_text_mask: PaddleOCR's rule ('image') on ties and ignored negatives; the in-mask rule."""
import numpy as np
import pytest
import torch

from mmpse_ext.models.losses import ohem_text_mask


def paddle_rule_reference(score, gt_text, train_mask, ratio=3):
    """PaddleOCR's ``ohem_single`` rule on one un-padded [H, W] sample, written from its
    description with numpy (stable descending sort, the k-th entry is the threshold)."""
    score, gt_text, train_mask = (np.asarray(a, np.float64) for a in (score, gt_text, train_mask))
    positives = int(np.count_nonzero(gt_text > 0.5))
    positives -= int(np.count_nonzero((gt_text > 0.5) & (train_mask <= 0.5)))
    if positives == 0:
        return train_mask.copy()
    negative_scores = score[gt_text <= 0.5]
    k = int(min(positives * ratio, negative_scores.size))
    if k == 0:
        return train_mask.copy()
    threshold = np.sort(negative_scores, kind='stable')[::-1][k - 1]
    keep = (score >= threshold) | (gt_text > 0.5)
    return (keep & (train_mask > 0.5)).astype(np.float64)


def _run(score, gt, mask, negatives='image', ratio=3.0, area=None):
    tensors = [torch.as_tensor(np.asarray(a), dtype=torch.float32)[None] for a in (score, gt, mask)]
    area = torch.ones_like(tensors[0]) if area is None else torch.as_tensor(area)[None].float()
    return ohem_text_mask(*tensors, area, ratio, negatives)[0].numpy()


def _tie_case():
    """4 positives → k = 12; 8 negatives at 5.0 and 10 at 2.0: the 12th largest is 2.0."""
    gt = np.zeros((6, 10))
    gt[0, :4] = 1
    score = np.full((6, 10), -1.0)
    score[1, :8] = 5.0
    score[2, :10] = 2.0
    score[0, :4] = -3.0  # positives with low scores are kept anyway
    return score, gt, np.ones((6, 10))


def test_tie_case_keeps_every_negative_tied_with_the_threshold():
    score, gt, mask = _tie_case()
    selected = _run(score, gt, mask)
    np.testing.assert_array_equal(selected, paddle_rule_reference(score, gt, mask))
    assert selected[0, :4].all() and selected[1, :8].all() and selected[2].all()
    assert selected.sum() == 4 + 8 + 10  # more than 4 + 12: all ties at 2.0 kept
    assert selected[3:].sum() == 0 and selected[0, 4:].sum() == 0


def test_tie_case_in_mask_rule_keeps_exactly_k():
    score, gt, mask = _tie_case()
    selected = _run(score, gt, mask, negatives='mask')
    assert selected.sum() == 4 + 12
    assert selected[0, :4].all() and selected[1, :8].all()
    assert selected[2].sum() == 4 and selected[3:].sum() == 0


def test_ignored_negatives_count_and_rank_but_are_never_selected():
    # 10 positives → k = 30. 25 negatives under a zero training mask hold the 25 highest
    # scores, so the threshold is the 5th-highest valid negative: only 5 valid ones are kept.
    gt = np.zeros((12, 10))
    gt[0] = 1
    mask = np.ones((12, 10))
    mask[9:] = 0
    mask[11, 5:] = 1  # ignored: rows 9, 10 and half of row 11 = 25 pixels
    rng = np.random.default_rng(0)
    score = rng.permutation(120).astype(np.float64).reshape(12, 10)
    score[mask == 0] = 1000.0 + np.arange(25)
    selected = _run(score, gt, mask)
    np.testing.assert_array_equal(selected, paddle_rule_reference(score, gt, mask))
    valid_negatives = (gt == 0) & (mask == 1)
    assert selected[mask == 0].sum() == 0 and selected[0].all()
    assert selected[valid_negatives].sum() == 5
    assert selected[valid_negatives].min() == 0
    kept = score[valid_negatives & (selected == 1)]
    assert kept.min() > score[valid_negatives & (selected == 0)].max()
    # The in-mask rule spends the whole budget on the valid negatives.
    assert _run(score, gt, mask, negatives='mask')[valid_negatives].sum() == 30


def test_ignored_text_is_not_a_positive_and_not_a_negative():
    # Text under the mask (a don't-care word drawn into gt_text, as Paddle draws it) neither
    # counts as positive nor competes as a negative.
    gt = np.zeros((8, 8))
    gt[0, :4] = 1  # 4 valid positives
    gt[7, :] = 1  # 8 ignored positives with the highest scores
    mask = np.ones((8, 8))
    mask[7] = 0
    score = np.arange(64, dtype=np.float64).reshape(8, 8)
    selected = _run(score, gt, mask)
    np.testing.assert_array_equal(selected, paddle_rule_reference(score, gt, mask))
    assert selected.sum() == 4 + 12 and selected[7].sum() == 0


def test_fallbacks_to_the_training_mask():
    mask = np.ones((6, 6))
    mask[:2] = 0
    rng = np.random.default_rng(1)
    score = rng.standard_normal((6, 6))
    only_ignored_text = np.zeros((6, 6))
    only_ignored_text[0] = 1
    for gt in (np.zeros((6, 6)), np.ones((6, 6)), only_ignored_text):
        for negatives in ('image', 'mask'):
            np.testing.assert_array_equal(_run(score, gt, mask, negatives), mask)
    # Fewer negatives than 3 × positives: every negative of the image is taken.
    gt = np.ones((6, 6))
    gt[5, :2] = 0
    np.testing.assert_array_equal(_run(score, gt, mask), mask)


def test_padding_is_neither_positive_nor_negative():
    # The tie case padded from 6×10 to 8×13 with very high scores in the padding.
    score, gt, mask = _tie_case()
    padded = [np.pad(a, ((0, 2), (0, 3))) for a in (score, gt, mask)]
    area = np.pad(np.ones((6, 10)), ((0, 2), (0, 3)))
    padded[0][area == 0] = 100.0
    selected = _run(*padded, area=area)
    np.testing.assert_array_equal(selected[:6, :10], paddle_rule_reference(score, gt, mask))
    assert selected[area == 0].sum() == 0


@pytest.mark.parametrize('seed', range(6))
def test_matches_the_reference_on_upsampled_logits_with_block_ties(seed):
    # Nearest ×4 upsampling makes 4×4 blocks of equal logits: ties are the normal case.
    rng = np.random.default_rng(seed)
    low = np.round(rng.standard_normal((12, 12)), 1)
    score = low.repeat(4, 0).repeat(4, 1)
    gt = (rng.random((48, 48)) < 0.15).astype(np.float64)
    mask = (rng.random((48, 48)) > 0.1).astype(np.float64)
    selected = _run(score, gt, mask, ratio=3.0)
    np.testing.assert_array_equal(selected, paddle_rule_reference(score, gt, mask))


def test_batch_samples_are_independent_and_bad_rule_is_refused():
    score, gt, mask = (torch.as_tensor(a, dtype=torch.float32) for a in _tie_case())
    batch = ohem_text_mask(
        torch.stack([score, -score]), torch.stack([gt, gt]), torch.stack([mask, mask]),
        torch.ones(2, 6, 10))
    for index, sign in enumerate((1, -1)):
        np.testing.assert_array_equal(batch[index].numpy(),
                                      paddle_rule_reference(sign * score.numpy(), gt, mask))
    with pytest.raises(ValueError, match='negatives must be one of'):
        ohem_text_mask(score[None], gt[None], mask[None], mask[None], 3.0, 'whole')


@pytest.mark.needs_cuda
def test_cuda_selection_equals_the_reference():
    rng = np.random.default_rng(11)
    low = np.round(rng.standard_normal((2, 40, 40)), 1)
    score = low.repeat(4, 1).repeat(4, 2)
    gt = (rng.random(score.shape) < 0.2).astype(np.float64)
    mask = (rng.random(score.shape) > 0.1).astype(np.float64)
    tensors = [torch.as_tensor(a, dtype=torch.float32, device='cuda') for a in (score, gt, mask)]
    selected = ohem_text_mask(*tensors, torch.ones_like(tensors[0]), 3.0, 'image').cpu().numpy()
    for index in range(2):
        np.testing.assert_array_equal(selected[index],
                                      paddle_rule_reference(score[index], gt[index], mask[index]))
