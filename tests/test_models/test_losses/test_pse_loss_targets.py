"""PSELoss targets: packed by our pipeline, or made by the loss for a stock MMOCR pipeline."""
import copy
import warnings

import numpy as np
import pytest
import torch
from mmcv.transforms import BaseTransform, Compose
from mmengine.structures import InstanceData
from mmocr.registry import TRANSFORMS as MMOCR_TRANSFORMS
from mmocr.structures import TextDetDataSample

from mmpse_ext.models.losses import PSELoss
from mmpse_ext.registry import TRANSFORMS


def _results(height, width, seed):
    """A results dict as MMOCR's loading/augmentation transforms leave it."""
    rng = np.random.default_rng(seed)
    polygons = [
        np.array([6, 5, 40, 9, 38, 21, 4, 17], np.float32),  # rotated quad
        np.array([44, 6, 52, 4, 60, 6, 66, 10, 62, 18, 56, 13, 50, 12, 45, 15], np.float32),
        np.array([8, 28, 30, 28, 30, 40, 8, 40], np.float32),  # '###'
        np.array([36, 30, 56, 30, 56, 31.2, 36, 31.2], np.float32),  # 1.2 px tall
        np.array([50, 44, width + 12, 44, width + 12, height + 6, 50, height + 6],
                 np.float32),  # crosses the image border
    ]
    polygons = [p + rng.uniform(-1, 1, p.shape).astype(np.float32) for p in polygons]
    boxes = np.array([[p[0::2].min(), p[1::2].min(), p[0::2].max(), p[1::2].max()]
                      for p in polygons], np.float32)
    return dict(
        img=rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
        img_path=f'synthetic_{seed}.jpg',
        ori_shape=(height, width),
        img_shape=(height, width),
        scale_factor=(1.0, 1.0),
        flip=False,
        flip_direction=None,
        gt_polygons=polygons,
        gt_bboxes=boxes,
        gt_bboxes_labels=np.zeros(5, np.int64),
        gt_ignored=np.array([False, False, True, False, False]),
        gt_texts=['word', 'curve', '###', 'thin', 'edge'])


SHAPES = ((60, 76, 0), (64, 80, 1))  # the first is padded to 64×80 in the batch


def _ours(results):
    """Our pipeline's end: targets made in the worker and packed."""
    pipeline = Compose([
        TRANSFORMS.build(dict(type='mmpse_ext.PSETargets')),
        TRANSFORMS.build(dict(type='mmpse_ext.PackPSEInputs')),
    ])
    return pipeline(copy.deepcopy(results))['data_samples']


def _stock(results):
    """A stock MMOCR pipeline's end: only gt_instances and the meta information."""
    return MMOCR_TRANSFORMS.build(dict(
        type='PackTextDetInputs'))(copy.deepcopy(results))['data_samples']


def _packed_maps(sample):
    return sample.gt_kernels, sample.gt_train_mask


def test_loss_made_targets_equal_the_pipeline_targets():
    for height, width, seed in SHAPES:
        loss = PSELoss()
        results = _results(height, width, seed)
        ours, stock = _ours(results), _stock(results)
        assert 'gt_kernels' not in stock and 'gt_train_mask' not in stock
        with pytest.warns(UserWarning, match='makes the PSE targets'):
            made_kernels, made_mask = loss.targets.make_targets(stock, 0)
        kernels, mask = _packed_maps(ours)
        assert made_kernels.dtype == torch.uint8 and made_mask.dtype == torch.uint8
        assert torch.equal(made_kernels, kernels) and torch.equal(made_mask, mask)
        # Not a trivial sample: 7 maps with text in each, the '###' word masked out.
        assert made_kernels.shape == (7, height, width)
        assert all(made_kernels[k].sum() > 0 for k in range(7))
        assert made_mask[34, 20] == 0 and made_mask.float().mean() > 0.5


def test_both_routes_give_the_same_loss_and_gradient():
    ours = [_ours(_results(*shape)) for shape in SHAPES]
    stock = [_stock(_results(*shape)) for shape in SHAPES]
    torch.manual_seed(0)
    logits = torch.randn(2, 7, 16, 20)
    values, grads = [], []
    for batch in (ours, stock, [ours[0], stock[1]]):
        preds = logits.clone().requires_grad_()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            losses = PSELoss()(preds, batch)
        (losses['loss_text'] + losses['loss_kernel']).backward()
        values.append(losses)
        grads.append(preds.grad)
    for other, grad in zip(values[1:], grads[1:]):
        for key in values[0]:
            torch.testing.assert_close(other[key], values[0][key], rtol=1e-6, atol=0)
        torch.testing.assert_close(grad, grads[0], rtol=1e-6, atol=0)
    assert values[0]['loss_text'].item() > 0 and grads[0].abs().sum() > 0


def test_warns_once_per_loss_and_never_with_packed_targets():
    stock = [_stock(_results(*SHAPES[1]))]
    ours = [_ours(_results(*SHAPES[1]))]
    preds = torch.randn(1, 7, 16, 20)
    loss = PSELoss()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        loss(preds, stock)
        loss(preds, stock)
    messages = [str(w.message) for w in caught if 'PSE targets' in str(w.message)]
    assert len(messages) == 1 and 'mmpse_ext.PSETargets' in messages[0]
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        PSELoss()(preds, ours)


class _BoxTargets(BaseTransform):
    """A stand-in target transform: each polygon's bounding box in 3 maps, nothing ignored."""

    def transform(self, results):
        height, width = results['img_shape']
        kernels = np.zeros((3, height, width), np.uint8)
        for polygon in results['gt_polygons']:
            x0, y0 = int(polygon[0::2].min()), int(polygon[1::2].min())
            x1, y1 = int(polygon[0::2].max()), int(polygon[1::2].max())
            kernels[:, y0:y1, x0:x1] = 1
        results['gt_kernels'] = kernels
        results['gt_train_mask'] = np.ones((height, width), np.uint8)
        return results


def test_the_targets_argument_selects_the_transform():
    if '_TestBoxTargets' not in TRANSFORMS.module_dict:
        TRANSFORMS.register_module(name='_TestBoxTargets', module=_BoxTargets)
    loss = PSELoss(targets=dict(type='mmpse_ext._TestBoxTargets'))
    sample = _stock(_results(*SHAPES[1]))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        kernels, mask, area = loss.targets([sample], 3, (64, 80), torch.device('cpu'))
    expected = np.zeros((64, 80), np.float32)
    for x0, y0, x1, y1 in sample.gt_instances.bboxes.int().tolist():
        expected[y0:y1, x0:x1] = 1
    for k in range(3):
        np.testing.assert_array_equal(kernels[0, k].numpy(), expected)
    assert mask.all() and area.all()


def _bare_sample(**metainfo):
    sample = TextDetDataSample(metainfo=metainfo)
    sample.gt_instances = InstanceData()
    return sample


def test_clear_errors_name_the_sample_and_the_field():
    preds = torch.randn(2, 7, 16, 20)
    good = _stock(_results(*SHAPES[1]))
    cases = []
    no_shape = _stock(_results(*SHAPES[1]))
    no_shape.set_metainfo(dict(img_shape=None))
    cases.append((no_shape, KeyError, 'data sample 1 has neither gt_kernels nor img_shape'))
    no_polygons = _bare_sample(img_shape=(64, 80))
    cases.append((no_polygons, KeyError, r'data sample 1 .*gt_instances\.polygons'))
    no_ignored = _bare_sample(img_shape=(64, 80))
    no_ignored.gt_instances.polygons = good.gt_instances.polygons
    cases.append((no_ignored, KeyError, r'data sample 1 .*gt_instances\.ignored'))
    half_packed = _ours(_results(*SHAPES[1]))
    del half_packed.gt_train_mask
    cases.append((half_packed, KeyError, 'data sample 1 has no gt_train_mask'))
    too_big = _stock(_results(72, 80, 2))
    cases.append((too_big, ValueError, r'data sample 1 targets are \[72, 80\], larger'))
    for bad, error, message in cases:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with pytest.raises(error, match=message):
                PSELoss()(preds, [good, bad])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(
                ValueError,
                match=r'data sample 0 gt_kernels \(made by .*PSETargets.*\) '
                r'has shape \[7, 64, 80\], expected \[3, H, W\]'):
            PSELoss()(torch.randn(1, 3, 16, 20), [good])
    with pytest.raises(TypeError, match='targets must be a transform config'):
        PSELoss(targets='mmpse_ext.PSETargets')
