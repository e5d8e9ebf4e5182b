"""PSELoss: dice values, exact OHEM selection, masks, padding, empty images, AMP, reduction."""
import warnings

import pytest
import torch
from mmocr.structures import TextDetDataSample

from mmpse_ext.models.losses import PSELoss


def _sample(kernels, mask=None):
    sample = TextDetDataSample()
    sample.gt_kernels = kernels.to(torch.uint8)
    sample.gt_train_mask = (torch.ones(kernels.shape[1:]) if mask is None else mask).to(
        torch.uint8)
    return sample


def _targets(height=32, width=32, k=3):
    kernels = torch.zeros(k, height, width)
    kernels[0, 4:20, 4:28] = 1
    for level in range(1, k):
        kernels[level, 4 + 2 * level:20 - 2 * level, 4 + 2 * level:28 - 2 * level] = 1
    return kernels


def _dice(prob, target, mask, eps=1e-6):
    prob, target = prob * mask, target * mask
    return 1 - 2 * (prob * target).sum() / ((prob * prob).sum() + (target * target).sum() +
                                           2 * eps)


def test_loss_equals_weighted_dice_terms_computed_by_hand():
    torch.manual_seed(0)
    kernels = _targets()
    preds = torch.randn(1, 3, 8, 8, requires_grad=True)
    loss = PSELoss(ohem_ratio=1000)  # keeps every negative: text mask = training mask
    losses = loss(preds, [_sample(kernels)])
    logits = preds.detach().repeat_interleave(4, 2).repeat_interleave(4, 3)[0]  # nearest ×4
    ones = torch.ones(32, 32)
    text = _dice(logits[0].sigmoid(), kernels[0], ones)
    predicted_text = (logits[0] > 0).float()
    kernel = sum(_dice(logits[i].sigmoid(), kernels[i], predicted_text) for i in (1, 2)) / 2
    assert losses['loss_text'].item() == pytest.approx(0.7 * text.item(), rel=1e-5)
    assert losses['loss_kernel'].item() == pytest.approx(0.3 * kernel.item(), rel=1e-5)
    (losses['loss_text'] + losses['loss_kernel']).backward()
    assert preds.grad.abs().sum() > 0


def test_logged_keys_monitors_are_detached_and_not_summed():
    losses = PSELoss()(torch.randn(2, 3, 8, 8, requires_grad=True),
                       [_sample(_targets()), _sample(_targets())])
    assert set(losses) == {'loss_text', 'loss_kernel', 'iou_text', 'iou_kernel'}
    for key in ('iou_text', 'iou_kernel'):
        assert 'loss' not in key and not losses[key].requires_grad
        assert 0.0 <= losses[key].item() <= 1.0
    assert losses['loss_text'].requires_grad and losses['loss_kernel'].requires_grad


def test_ohem_keeps_positives_and_exactly_three_times_as_many_hardest_negatives():
    # 10 positive pixels, 90 negatives with distinct logits, 20 ignored pixels with the
    # highest logits of all (they must not be picked).
    gt = torch.zeros(1, 12, 10)
    gt[0, 0, :10] = 1
    mask = torch.ones(1, 12, 10)
    mask[0, 10:] = 0
    logits = torch.randperm(120).float().view(1, 12, 10)
    logits[0, 10:] = 1000.0
    selected = PSELoss(ohem_ratio=3).ohem_mask(logits, gt, mask)
    assert selected.sum().item() == 10 + 30
    assert torch.equal(selected[0, 0], torch.ones(10))  # every positive
    negatives = logits[0, 1:10].flatten()
    chosen = selected[0, 1:10].flatten().bool()
    assert chosen.sum() == 30
    assert negatives[chosen].min() > negatives[~chosen].max()  # the hardest ones
    assert selected[0, 10:].sum() == 0  # nothing from the ignored rows


def test_ohem_exact_count_with_tied_logits():
    gt = torch.zeros(1, 4, 25)
    gt[0, 0, :5] = 1
    logits = torch.zeros(1, 4, 25)  # all negatives tied
    selected = PSELoss(ohem_ratio=3).ohem_mask(logits, gt, torch.ones(1, 4, 25))
    assert selected.sum().item() == 5 + 15


def test_ohem_falls_back_to_the_training_mask():
    loss = PSELoss(ohem_ratio=3)
    mask = torch.ones(1, 6, 6)
    mask[0, :2] = 0
    no_text = loss.ohem_mask(torch.randn(1, 6, 6), torch.zeros(1, 6, 6), mask)
    assert torch.equal(no_text, mask)
    all_text = loss.ohem_mask(torch.randn(1, 6, 6), torch.ones(1, 6, 6), mask)
    assert torch.equal(all_text, mask)
    # Fewer negatives than 3 × positives: all of them.
    gt = torch.ones(1, 6, 6)
    gt[0, 5, :2] = 0
    few = loss.ohem_mask(torch.randn(1, 6, 6), gt, mask)
    assert torch.equal(few, mask)


@pytest.mark.parametrize('case', ['no_text', 'only_ignored_text', 'empty_mask'])
def test_images_without_usable_text_are_finite_silent_and_gradient_free(case):
    kernels = _targets()
    mask = torch.ones(32, 32)
    if case == 'no_text':
        kernels.zero_()
    elif case == 'only_ignored_text':
        mask[kernels[0] > 0] = 0
    else:
        mask.zero_()
    preds = torch.randn(2, 3, 8, 8, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        losses = PSELoss()(preds, [_sample(kernels, mask), _sample(kernels, mask)])
        total = losses['loss_text'] + losses['loss_kernel']
        total.backward()
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert torch.isfinite(preds.grad).all()
    if case != 'no_text':  # nothing valid to learn from the text map
        assert losses['loss_text'].item() == pytest.approx(2 * 0.7)


def test_padding_and_ignored_pixels_do_not_influence_the_loss():
    # Targets 28×24 inside 32×32 logits (a padded batch); rows 0..3 ignored.
    kernels = _targets(28, 24)
    kernels[0, 0:4, 4:20] = 1  # text in the ignored rows too
    mask = torch.ones(28, 24)
    mask[:4] = 0
    torch.manual_seed(1)
    preds = torch.randn(1, 3, 8, 8)
    changed = preds.clone()
    changed[..., 7, :] = 50.0  # low-res row 7 → rows 28..31: padding only
    changed[..., :, 6:] = -50.0  # columns 24..31: padding only
    changed[..., 0, :] = 30.0  # rows 0..3: ignored only
    loss = PSELoss()
    first = loss(preds, [_sample(kernels, mask)])
    second = loss(changed, [_sample(kernels, mask)])
    for key in first:
        assert second[key].item() == pytest.approx(first[key].item(), rel=1e-6), key
    changed[..., 1, :] = 30.0  # rows 4..7 are valid: now the loss changes
    assert loss(changed, [_sample(kernels, mask)])['loss_text'].item() != pytest.approx(
        first['loss_text'].item(), rel=1e-6)


def test_sum_reduction_is_batch_times_mean():
    preds = torch.randn(1, 3, 8, 8).repeat(3, 1, 1, 1)
    samples = [_sample(_targets()) for _ in range(3)]
    summed = PSELoss(reduction='sum')(preds, samples)
    mean = PSELoss(reduction='mean')(preds, samples)
    for key in ('loss_text', 'loss_kernel'):
        assert summed[key].item() == pytest.approx(3 * mean[key].item(), rel=1e-5)
    assert summed['iou_text'].item() == pytest.approx(mean['iou_text'].item())


def test_float32_under_autocast():
    preds = torch.randn(2, 3, 8, 8)
    samples = [_sample(_targets()), _sample(_targets())]
    reference = PSELoss()(preds, samples)
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        losses = PSELoss()(preds.bfloat16(), samples)
    for key in ('loss_text', 'loss_kernel'):
        assert losses[key].dtype == torch.float32
        assert losses[key].item() == pytest.approx(reference[key].item(), abs=2e-2)


def test_kernel_sample_mask_gt_uses_the_ground_truth_text():
    kernels = _targets()
    preds = torch.full((1, 3, 8, 8), -5.0)  # predicts no text at all
    pred_mask = PSELoss(kernel_sample_mask='pred')(preds, [_sample(kernels)])
    gt_mask = PSELoss(kernel_sample_mask='gt')(preds, [_sample(kernels)])
    # 'pred': empty mask → dice 1 - 0; 'gt': kernels are scored inside the true text.
    assert pred_mask['loss_kernel'].item() == pytest.approx(0.3)
    assert gt_mask['loss_kernel'].item() < 0.3


def test_bilinear_upsampling_option():
    preds = torch.randn(1, 3, 8, 8)
    samples = [_sample(_targets())]
    nearest = PSELoss()(preds, samples)['loss_text']
    bilinear = PSELoss(upsample_mode='bilinear')(preds, samples)['loss_text']
    assert nearest.item() != pytest.approx(bilinear.item(), rel=1e-6)


def test_clear_errors_for_bad_targets_and_arguments():
    preds = torch.randn(1, 3, 8, 8)
    with pytest.raises(KeyError, match='gt_kernels'):
        PSELoss()(preds, [TextDetDataSample()])
    with pytest.raises(ValueError, match=r'gt_kernels has shape \[2, 32, 32\]'):
        PSELoss()(preds, [_sample(_targets(k=2))])
    with pytest.raises(ValueError, match='larger than the upsampled logits'):
        PSELoss()(preds, [_sample(_targets(40, 32))])
    with pytest.raises(ValueError, match='2 data samples'):
        PSELoss()(preds, [_sample(_targets()), _sample(_targets())])
    with pytest.raises(ValueError, match='reduction'):
        PSELoss(reduction='none')
    with pytest.raises(ValueError, match='kernel_sample_mask'):
        PSELoss(kernel_sample_mask='both')
