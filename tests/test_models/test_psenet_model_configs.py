"""The model config pieces build from a stock MMOCR-style config and train end to end."""
import os

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import import_modules_from_strings
from mmocr.structures import TextDetDataSample

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS_DIR = os.path.join(REPO, 'configs', '_base_', 'models')

pytestmark = pytest.mark.usefixtures('single_thread')


def _stock_mmocr_config(tmp_path, base='pse_r50vd_fpn.py'):
    """A user config in MMOCR style that loads our package and inherits our model piece."""
    path = tmp_path / 'user_config.py'
    path.write_text(f"_base_ = [{os.path.join(MODELS_DIR, base)!r}]\n"
                    "default_scope = 'mmocr'\n"
                    "custom_imports = dict(imports=['mmpse_ext'], allow_failed_imports=False)\n")
    cfg = Config.fromfile(str(path))
    import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.default_scope)
    return cfg


def _build(cfg):
    from mmocr.registry import MODELS
    return MODELS.build(cfg.model)


def _batch(num_images, size, seed=0):
    """Synthetic images with two separate bright rectangles ("words") each, their PSE targets
    (K = 7) and their inclusive boxes ``(x0, y0, x1, y1)`` per image."""
    rng = np.random.default_rng(seed)
    inputs, samples, boxes = [], [], []
    height, width = size
    for _ in range(num_images):
        image = rng.integers(0, 60, (3, height, width)).astype(np.uint8)
        kernels = np.zeros((7, height, width), np.uint8)
        boxes.append([])
        for word in range(2):  # one word per half, 4 px apart at least: never touching
            h, w = rng.integers(12, 20), rng.integers(30, 50)
            top = word * (height // 2 + 2)
            y = rng.integers(top, top + height // 2 - 2 - h)
            x = rng.integers(0, width - w)
            image[:, y:y + h, x:x + w] = rng.integers(180, 255)
            boxes[-1].append((x, y, x + w - 1, y + h - 1))
            for level in range(7):
                # shrink by a fraction of the short side per level, as the kernel maps do
                d = int(round(level * h * 0.06))
                kernels[level, y + d:y + h - d, x + d:x + w - d] = 1
        sample = TextDetDataSample(
            metainfo=dict(img_shape=size, ori_shape=size, scale_factor=(1.0, 1.0)))
        sample.gt_kernels = torch.from_numpy(kernels)
        sample.gt_train_mask = torch.ones(size, dtype=torch.uint8)
        inputs.append(torch.from_numpy(image))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples), boxes


def _box_iou(a, b):
    inter_w = min(a[2], b[2]) - max(a[0], b[0]) + 1
    inter_h = min(a[3], b[3]) - max(a[1], b[1]) + 1
    inter = max(inter_w, 0) * max(inter_h, 0)
    area = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    return inter / (area - inter)


def test_stock_mmocr_config_builds_the_recipe_model(tmp_path):
    from mmdet.models.backbones import ResNetV1d
    from mmocr.models.textdet import PSENet, TextDetDataPreprocessor

    from mmpse_ext.models import heads, losses, necks, postprocessors
    model = _build(_stock_mmocr_config(tmp_path))
    assert type(model) is PSENet
    assert type(model.data_preprocessor) is TextDetDataPreprocessor
    assert type(model.backbone) is ResNetV1d
    assert type(model.neck) is necks.PSEFPN
    assert type(model.det_head) is heads.PSEHead
    assert type(model.det_head.module_loss) is losses.PSELoss
    assert type(model.det_head.postprocessor) is postprocessors.PSEPostprocessor


def test_preprocessing_is_paddles_normalize_image_on_bgr(tmp_path):
    # Paddle (yml NormalizeImage, order hwc): x / 255, minus mean, over std, per channel of the
    # BGR image as decoded (img_mode BGR), then zero padding to a multiple of 32
    model = _build(_stock_mmocr_config(tmp_path))
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (50, 70, 3)).astype(np.uint8)
    sample = TextDetDataSample(metainfo=dict(img_shape=(50, 70)))
    data = model.data_preprocessor(
        dict(inputs=[torch.from_numpy(bgr).permute(2, 0, 1)], data_samples=[sample]))
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    expected = (bgr / 255.0 - mean) / std
    out = data['inputs'][0].permute(1, 2, 0).numpy()
    assert out.shape == (64, 96, 3)
    np.testing.assert_allclose(out[:50, :70], expected, atol=1e-5)


def test_r50vd_features_and_batch_sum_reduction(tmp_path):
    model = _build(_stock_mmocr_config(tmp_path)).eval()
    with torch.no_grad():
        features = model.backbone(torch.zeros(1, 3, 64, 96))
        assert [tuple(f.shape[1:]) for f in features] == [(256, 16, 24), (512, 8, 12), (1024, 4, 6),
                                                          (2048, 2, 3)]  # strides 4 .. 32
        assert model.neck(features).shape == (1, 1024, 16, 24)
    # Paddle's `reduction: none` trains on the sum over the batch: a doubled batch doubles it
    logits = torch.randn(1, 7, 16, 24, generator=torch.Generator().manual_seed(0))
    batch, _ = _batch(1, (64, 96))
    samples = batch['data_samples']
    one = model.det_head.module_loss(logits, samples)
    two = model.det_head.module_loss(torch.cat([logits, logits]), samples * 2)
    for key in ('loss_text', 'loss_kernel'):
        assert torch.allclose(two[key], 2 * one[key], rtol=1e-5), key


def test_r50_logit_shape_padding_and_gradients_reach_every_parameter(tmp_path):
    model = _build(_stock_mmocr_config(tmp_path))
    # No init_weights(): mmdet's zero_init_residual sets bn3 weights to 0, which blocks the
    # gradient of conv3 at step 0 by design; torch's default init lets every gradient show.
    data = model.data_preprocessor(_batch(2, (60, 90))[0], training=True)
    assert data['inputs'].shape == (2, 3, 64, 96)  # padded to a multiple of 32
    logits = model.det_head(model.extract_feat(data['inputs']))
    assert logits.shape == (2, 7, 16, 24)
    losses = model.det_head.module_loss(logits, data['data_samples'])
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@pytest.mark.slow
def test_small_model_overfits_a_tiny_synthetic_batch(tmp_path):
    torch.manual_seed(0)
    model = _build(_stock_mmocr_config(tmp_path, 'pse_r18_fpn.py'))
    model.init_weights()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch, gt_boxes = _batch(2, (64, 96))
    data = model.data_preprocessor(batch, training=True)
    history = []
    for _ in range(30):
        losses = model(**data, mode='loss')
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    assert all(np.isfinite(history))
    assert np.mean(history[-5:]) < 0.5 * np.mean(history[:3]), history
    assert losses['iou_text'].item() > 0.8, losses

    model.eval()
    with torch.no_grad():
        results = model(**data, mode='predict')
    # The trained model finds each word: one quad per rectangle, box IoU > 0.5.
    for result, boxes in zip(results, gt_boxes):
        polygons = result.pred_instances.polygons
        assert all(p.dtype == np.float32 and len(p) == 8 for p in polygons)
        assert result.pred_instances.scores.dtype == torch.float32
        predicted = [(p[0::2].min(), p[1::2].min(), p[0::2].max(), p[1::2].max()) for p in polygons]
        for box in boxes:
            assert max((_box_iou(box, p) for p in predicted), default=0) > 0.5, (box, predicted)
