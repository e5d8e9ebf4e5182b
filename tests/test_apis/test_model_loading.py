"""load_model: Runner checkpoints and bare (converted Paddle) state dicts; mismatches refused."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmpse_ext.apis import load_config, load_model

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'pse_r18_synthetic_demo.py')


@pytest.fixture(scope='module')
def demo_model_state():
    from mmocr.registry import MODELS
    cfg = load_config(DEMO_CONFIG)
    torch.manual_seed(0)
    return cfg, MODELS.build(cfg.model).state_dict()


def test_load_model_accepts_bare_state_dict_like_converted_paddle(demo_model_state, tmp_path):
    cfg, state = demo_model_state
    # converted Paddle weights: a bare state dict without BN's num_batches_tracked
    bare = {k: v for k, v in state.items() if not k.endswith('num_batches_tracked')}
    torch.save(bare, tmp_path / 'converted.pth')
    model = load_model(cfg, str(tmp_path / 'converted.pth'), 'cpu')
    assert not model.training
    for key, value in bare.items():
        assert torch.equal(model.state_dict()[key], value), key
    # a Runner checkpoint (state_dict + meta) of a DDP-wrapped model
    torch.save(
        dict(meta=dict(epoch=1), state_dict={
            f'module.{k}': v
            for k, v in state.items()
        }), tmp_path / 'runner.pth')
    model = load_model(cfg, str(tmp_path / 'runner.pth'), 'cpu')
    for key, value in state.items():
        assert torch.equal(model.state_dict()[key], value), key


def test_load_model_rejects_mismatched_weights(demo_model_state, tmp_path):
    cfg, state = demo_model_state
    wrong = dict(state)
    wrong.pop('det_head.out_conv.weight')
    wrong['head.conv2.weight'] = torch.zeros(1)
    torch.save(wrong, tmp_path / 'wrong.pth')
    with pytest.raises(
            RuntimeError,
            match=r'1 missing keys.*det_head.out_conv.weight.*'
            r'1 unexpected keys.*head.conv2.weight'):
        load_model(cfg, str(tmp_path / 'wrong.pth'), 'cpu')
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        load_model(cfg, str(tmp_path / 'absent.pth'), 'cpu')


def test_load_config_reads_paths_and_passes_configs_through(tmp_path):
    cfg = load_config(DEMO_CONFIG)
    assert isinstance(cfg, Config) and cfg.filename == DEMO_CONFIG
    assert load_config(cfg) is cfg
    with pytest.raises(FileNotFoundError, match='missing_config.py'):
        load_config(str(tmp_path / 'missing_config.py'))
