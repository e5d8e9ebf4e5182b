"""PSELogitsNetwork computes what the model's data preprocessor + backbone + neck + head
compute, given the raw image padded with InputNormalisation.padding_pixel()."""
import os.path as osp

import pytest
import torch

from mmpse_ext.apis import InputNormalisation, PSELogitsNetwork, load_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'pse_r18_synthetic_demo.py')


def tiny_model(**preprocessor):
    from mmocr.registry import MODELS
    cfg = load_config(DEMO_CONFIG)
    cfg.model.backbone.update(base_channels=8, stem_channels=8)
    cfg.model.neck.update(in_channels=[8, 16, 32, 64], out_channels=16)
    cfg.model.det_head.update(in_channels=64, hidden_dim=16)
    cfg.model.data_preprocessor.update(preprocessor)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize(
    'preprocessor,exact',
    [
        (dict(), True),  # the recipe: BGR kept, pad 0
        (dict(bgr_to_rgb=True), True),  # MMOCR's stock configs
        (dict(bgr_to_rgb=True, pad_value=1.5), False),  # pad value not exactly representable
    ])
def test_network_equals_data_preprocessor_path(preprocessor, exact):
    model = tiny_model(**preprocessor)
    network = PSELogitsNetwork(model)
    image = torch.randint(
        0, 256, (3, 70, 100), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=[image], data_samples=None), False)
        expected = model.det_head(model.extract_feat(data['inputs']))
        assert data['inputs'].shape[-2:] == (96, 128)  # padded to multiples of 32
        padded = network.normalisation.padding_pixel().reshape(3, 1, 1).expand(3, 96, 128)
        padded = padded.clone()
        padded[:, :70, :100] = image.float()
        got = network(padded[None])
    assert got.shape == expected.shape == (1, 7, 24, 32)
    if exact:
        assert torch.equal(got, expected)
    else:
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_normalisation_constants_follow_the_preprocessor():
    rgb = InputNormalisation.of(tiny_model(bgr_to_rgb=True, pad_value=2.0).data_preprocessor)
    assert rgb.swap_channels and rgb.size_divisor == 32 and rgb.pad_value == 2.0
    # the padding pixel is given in the input's (BGR) order: channel 0 normalises with mean[2]
    torch.testing.assert_close(rgb.padding_pixel(), (rgb.mean + 2.0 * rgb.std).flip(0))
    plain = InputNormalisation.of(tiny_model().data_preprocessor)
    assert not plain.swap_channels
    assert torch.equal(plain.padding_pixel(), plain.mean)
