"""PSELoss: dice values, the OHEM rule in the loss, masks, padding, empty images, AMP, reduction."""
import warnings

import pytest
import torch
from mmocr.structures import TextDetDataSample
from torch_features import needs_cpu_autocast, needs_cpu_grad_scaler

from mmpse_ext.models.losses import PSELoss


def _sample(kernels, mask=None):
    sample = TextDetDataSample()
    sample.gt_kernels = kernels.to(torch.uint8)
    sample.gt_train_mask = (torch.ones(kernels.shape[1:]) if mask is None else mask).to(torch.uint8)
    return sample


def _targets(height=32, width=32, k=3):
    kernels = torch.zeros(k, height, width)
    kernels[0, 4:20, 4:28] = 1
    for level in range(1, k):
        kernels[level, 4 + 2 * level:20 - 2 * level, 4 + 2 * level:28 - 2 * level] = 1
    return kernels


def _dice(prob, target, mask, eps=1e-6):
    prob, target = prob * mask, target * mask
    return 1 - 2 * (prob * target).sum() / ((prob * prob).sum() + (target * target).sum() + 2 * eps)


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


def _upsampled(preds):
    return preds.detach().repeat_interleave(4, 2).repeat_interleave(4, 3)  # nearest ×4


def test_default_text_term_uses_paddles_ohem_and_in_mask_rule_is_selectable():
    # One positive low-res pixel (16 px) → k = 48. Two ignored negative blocks (32 px with no
    # text under a zero mask) hold the highest logits; Paddle's rule counts them, so the 48th
    # negative falls in the two blocks tied at logit 2 and both are kept (32 px, ties). The
    # in-mask rule keeps those two and the block at logit 1: exactly 48.
    kernels = torch.zeros(3, 32, 32)
    kernels[:, 0:4, 0:4] = 1
    mask = torch.ones(32, 32)
    mask[28:32, 0:8] = 0
    preds = torch.full((1, 3, 8, 8), -4.0)
    preds[0, 0, 7, :2] = 9.0  # the ignored blocks
    preds[0, 0, 3, 3:5] = 2.0
    preds[0, 0, 5, 0] = 1.0
    sample = _sample(kernels, mask)
    text = _upsampled(preds)[0, 0]
    paddle_rule = torch.zeros(32, 32)
    paddle_rule[0:4, 0:4] = 1
    paddle_rule[12:16, 12:20] = 1
    in_mask_rule = paddle_rule.clone()
    in_mask_rule[20:24, 0:4] = 1
    for loss, selected in ((PSELoss(), paddle_rule), (PSELoss(ohem_negatives='mask'),
                                                      in_mask_rule)):
        expected = 0.7 * _dice(text.sigmoid(), kernels[0], selected)
        assert loss(preds, [sample])['loss_text'].item() == pytest.approx(expected.item(), rel=1e-6)


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


@pytest.mark.parametrize('negatives', ['image', 'mask'])
def test_padding_and_ignored_text_do_not_influence_the_loss(negatives):
    # Targets 28×24 inside 32×32 logits (a padded batch); rows 0..3 are an ignored word, drawn
    # into the text map as Paddle draws don't-care words (ignored negatives do count in
    # Paddle's OHEM: tests/test_models/test_losses/test_text_ohem.py).
    kernels = _targets(28, 24)
    kernels[0, 0:4] = 1
    mask = torch.ones(28, 24)
    mask[:4] = 0
    torch.manual_seed(1)
    preds = torch.randn(1, 3, 8, 8)
    changed = preds.clone()
    changed[..., 7, :] = 50.0  # low-res row 7 → rows 28..31: padding only
    changed[..., :, 6:] = -50.0  # columns 24..31: padding only
    changed[..., 0, :] = 30.0  # rows 0..3: ignored only
    loss = PSELoss(ohem_negatives=negatives)
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


@pytest.mark.parametrize(
    'dtype', [torch.bfloat16,
              pytest.param(torch.float16, marks=needs_cpu_autocast(torch.float16))])
def test_float32_under_cpu_autocast(dtype):
    samples = [_sample(_targets()), _sample(_targets())]
    preds = torch.randn(2, 3, 8, 8)
    reference = PSELoss()(preds, samples)
    low_reference = PSELoss()(preds.to(dtype).float(), samples)
    with torch.autocast(device_type='cpu', dtype=dtype):
        from_float = PSELoss()(preds, samples)
        from_low = PSELoss()(preds.to(dtype), samples)
    for key in reference:
        assert from_float[key].dtype == torch.float32 and from_low[key].dtype == torch.float32
        # Autocast off inside: the same numbers as without autocast, from the same logits.
        assert torch.equal(from_float[key], reference[key]), key
        assert torch.equal(from_low[key], low_reference[key]), key


@needs_cpu_grad_scaler
def test_amp_step_with_cpu_grad_scaler():
    torch.manual_seed(0)
    head = torch.nn.Conv2d(4, 3, 1)
    scaler = torch.amp.GradScaler('cpu', init_scale=1024.0)
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        preds = head(torch.randn(2, 4, 8, 8))
        losses = PSELoss()(preds, [_sample(_targets()), _sample(_targets())])
    assert preds.dtype == torch.bfloat16
    scaler.scale(losses['loss_text'] + losses['loss_kernel']).backward()
    assert all(torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0 for p in head.parameters())


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
    with pytest.raises(
            ValueError, match=r'data sample 0 gt_kernels \(packed\) has shape \[2, 32, 32\]'):
        PSELoss()(preds, [_sample(_targets(k=2))])
    with pytest.raises(ValueError, match='larger than the upsampled logits'):
        PSELoss()(preds, [_sample(_targets(40, 32))])
    with pytest.raises(ValueError, match='2 data samples'):
        PSELoss()(preds, [_sample(_targets()), _sample(_targets())])
    with pytest.raises(ValueError, match='reduction'):
        PSELoss(reduction='none')
    with pytest.raises(ValueError, match='kernel_sample_mask'):
        PSELoss(kernel_sample_mask='both')
    with pytest.raises(ValueError, match='ohem_negatives'):
        PSELoss(ohem_negatives='whole')


@pytest.mark.needs_cuda
def test_cuda_loss_equals_cpu_loss():
    torch.manual_seed(0)
    preds = torch.randn(2, 3, 8, 8)
    samples = [_sample(_targets()), _sample(_targets(28, 24))]
    cpu = PSELoss()(preds, samples)
    cuda = PSELoss()(preds.cuda(), samples)
    for key in cpu:
        assert cuda[key].device.type == 'cuda' and cuda[key].dtype == torch.float32
        assert cuda[key].item() == pytest.approx(cpu[key].item(), rel=1e-5, abs=1e-6), key
