"""Paddle .pdparams → our checkpoint: completeness checks and parity with Paddle's layout.

The reference forward passes below are written from PaddleOCR's layer definitions
(``det_resnet_vd.py``, ``necks/fpn.py``, ``heads/det_pse_head.py``) and read the Paddle-named
tensors directly, so a wrong name mapping (swapped FPN levels, BN mean/variance, the shortcut
of the first stage, the stride position) changes the converted model's output.
"""
import importlib.util
import math
import os
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmpse_ext.models.paddle_weights import (PADDLE_STRUCTURE_KEY, ConversionError,
                                             convert_state_dict, detect_kind, load_pdparams,
                                             map_paddle_name)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL_CONFIG = os.path.join(REPO, 'configs', '_base_', 'models', 'pse_r50vd_fpn.py')
BN_EPS = 1e-5
DEPTH = [3, 4, 6, 3]
STAGE_IN = [64, 256, 512, 1024]
STAGE_WIDTH = [64, 128, 256, 512]


# ---- Paddle-named weights -------------------------------------------------------------------
def _conv_bn(state, rng, name, out_ch, in_ch, k, conv='_conv', bn='_batch_norm'):
    state[f'{name}.{conv}.weight'] = rng.normal(
        0, math.sqrt(2.0 / (in_ch * k * k)), (out_ch, in_ch, k, k)).astype(np.float32)
    state[f'{name}.{bn}.weight'] = rng.uniform(0.5, 1.5, out_ch).astype(np.float32)
    state[f'{name}.{bn}.bias'] = rng.normal(0, 0.2, out_ch).astype(np.float32)
    state[f'{name}.{bn}._mean'] = rng.normal(0, 0.2, out_ch).astype(np.float32)
    state[f'{name}.{bn}._variance'] = rng.uniform(0.5, 2.0, out_ch).astype(np.float32)


def paddle_resnet50_vd(rng, prefix=''):
    """Random weights named like Paddle's ResNet_vd(layers=50)."""
    state = {}
    for name, out_ch, in_ch in (('conv1_1', 32, 3), ('conv1_2', 32, 32), ('conv1_3', 64, 32)):
        _conv_bn(state, rng, prefix + name, out_ch, in_ch, 3)
    for stage, blocks in enumerate(DEPTH):
        width = STAGE_WIDTH[stage]
        for block in range(blocks):
            in_ch = STAGE_IN[stage] if block == 0 else 4 * width
            name = f'{prefix}bb_{stage}_{block}'
            _conv_bn(state, rng, f'{name}.conv0', width, in_ch, 1)
            _conv_bn(state, rng, f'{name}.conv1', width, width, 3)
            _conv_bn(state, rng, f'{name}.conv2', 4 * width, width, 1)
            if block == 0:
                _conv_bn(state, rng, f'{name}.short', 4 * width, in_ch, 1)
    return state


def paddle_det_r50_vd_pse(rng):
    """Random weights named like PaddleOCR's det_r50_vd_pse (backbone + FPN + PSE head)."""
    state = paddle_resnet50_vd(rng, 'backbone.')
    for name, in_ch in (('toplayer_', 2048), ('latlayer1_', 1024), ('latlayer2_', 512),
                        ('latlayer3_', 256)):
        _conv_bn(state, rng, f'neck.{name}', 256, in_ch, 1, conv='conv', bn='bn')
    for name in ('smooth1_', 'smooth2_', 'smooth3_'):
        _conv_bn(state, rng, f'neck.{name}', 256, 256, 3, conv='conv', bn='bn')
    _conv_bn(state, rng, 'head.x', 256, 1024, 3, conv='conv1', bn='bn1')
    state = {k.replace('head.x.', 'head.'): v for k, v in state.items()}
    state['head.conv1.bias'] = rng.normal(0, 0.1, 256).astype(np.float32)
    state['head.conv2.weight'] = rng.normal(0, 0.05, (7, 256, 1, 1)).astype(np.float32)
    state['head.conv2.bias'] = rng.normal(0, 0.1, 7).astype(np.float32)
    return state


def write_pdparams(path, state):
    """What paddle.save writes: a pickle of name → ndarray plus the structure table."""
    content = dict(state)
    content[PADDLE_STRUCTURE_KEY] = {name: f'param_{i}' for i, name in enumerate(state)}
    with open(path, 'wb') as f:
        pickle.dump(content, f, protocol=4)


# ---- reference forward passes, Paddle layout --------------------------------------------------
def _t(state, name):
    return torch.from_numpy(state[name])


def ref_conv_bn(x, state, name, stride=1, act=True, vd=False, conv='_conv', bn='_batch_norm',
                bias=None):
    if vd:  # Paddle AvgPool2D(2, 2, ceil_mode=True), exclusive (padding not counted)
        x = F.avg_pool2d(x, 2, 2, ceil_mode=True, count_include_pad=False)
    weight = _t(state, f'{name}.{conv}.weight')
    x = F.conv2d(x, weight, bias, stride=stride, padding=(weight.shape[-1] - 1) // 2)
    x = F.batch_norm(x, _t(state, f'{name}.{bn}._mean'), _t(state, f'{name}.{bn}._variance'),
                     _t(state, f'{name}.{bn}.weight'), _t(state, f'{name}.{bn}.bias'),
                     training=False, eps=BN_EPS)
    return F.relu(x) if act else x


def ref_resnet50_vd(x, state, prefix=''):
    x = ref_conv_bn(x, state, prefix + 'conv1_1', stride=2)
    x = ref_conv_bn(x, state, prefix + 'conv1_2')
    x = ref_conv_bn(x, state, prefix + 'conv1_3')
    x = F.max_pool2d(x, 3, 2, 1)
    outs = []
    for stage, blocks in enumerate(DEPTH):
        for block in range(blocks):
            name = f'{prefix}bb_{stage}_{block}'
            y = ref_conv_bn(x, state, f'{name}.conv0')
            y = ref_conv_bn(y, state, f'{name}.conv1', stride=2 if block == 0 and stage else 1)
            y = ref_conv_bn(y, state, f'{name}.conv2', act=False)
            short = x if block else ref_conv_bn(x, state, f'{name}.short', act=False,
                                                vd=stage != 0)
            x = F.relu(short + y)
        outs.append(x)
    return outs


def ref_det_r50_vd_pse(x, state):
    f2, f3, f4, f5 = ref_resnet50_vd(x, state, 'backbone.')

    def cbr(x, name):
        return ref_conv_bn(x, state, f'neck.{name}', conv='conv', bn='bn')

    def up(x, scale):
        return F.interpolate(x, scale_factor=scale, mode='bilinear', align_corners=False)

    p5 = cbr(f5, 'toplayer_')
    p4 = cbr(up(p5, 2) + cbr(f4, 'latlayer1_'), 'smooth1_')
    p3 = cbr(up(p4, 2) + cbr(f3, 'latlayer2_'), 'smooth2_')
    p2 = cbr(up(p3, 2) + cbr(f2, 'latlayer3_'), 'smooth3_')
    fuse = torch.cat([p2, up(p3, 2), up(p4, 4), up(p5, 8)], dim=1)
    out = ref_conv_bn(fuse, state, 'head', conv='conv1', bn='bn1',
                      bias=_t(state, 'head.conv1.bias'))
    return F.conv2d(out, _t(state, 'head.conv2.weight'), _t(state, 'head.conv2.bias'))


# ---- helpers ----------------------------------------------------------------------------------
def _build_model():
    import mmpse_ext  # noqa: F401
    from mmocr.registry import MODELS
    init_default_scope('mmocr')
    return MODELS.build(Config.fromfile(MODEL_CONFIG).model)


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def _assert_close(ours, reference):
    scale = reference.abs().max().item()
    assert ours.shape == reference.shape
    assert (ours - reference).abs().max().item() <= 1e-4 * max(scale, 1.0)


@pytest.fixture(autouse=True)
def single_thread():
    """One intra-op thread: much faster than contended OpenMP threads on a busy CI machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def model():
    return _build_model()


# ---- tests ------------------------------------------------------------------------------------
def test_detector_weights_reproduce_the_paddle_forward_pass(model, tmp_path):
    rng = np.random.default_rng(0)
    paddle_state = paddle_det_r50_vd_pse(rng)
    write_pdparams(tmp_path / 'det.pdparams', paddle_state)
    source = load_pdparams(str(tmp_path / 'det.pdparams'))
    assert detect_kind(list(source)) == 'detector'
    state_dict, report = convert_state_dict(source, _shapes(model), 'detector')
    assert not report.missing and not report.unused and not report.dropped
    assert len(report.filled) == len(paddle_state)  # every Paddle tensor used exactly once
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    x = torch.randn(1, 3, 64, 96, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        features = model.backbone(x)
        logits = model.det_head(model.neck(features))
        reference_features = ref_resnet50_vd(x, paddle_state, 'backbone.')
        reference_logits = ref_det_r50_vd_pse(x, paddle_state)
    for ours, reference in zip(features, reference_features):
        _assert_close(ours, reference)
    assert logits.shape == (1, 7, 16, 24)
    _assert_close(logits, reference_logits)


def test_imagenet_backbone_file_loads_through_pretrained_init(model, tmp_path):
    rng = np.random.default_rng(2)
    paddle_state = paddle_resnet50_vd(rng)
    paddle_state['out.weight'] = rng.normal(0, 0.01, (2048, 1000)).astype(np.float32)
    paddle_state['out.bias'] = np.zeros(1000, np.float32)
    write_pdparams(tmp_path / 'imagenet.pdparams', paddle_state)
    source = load_pdparams(str(tmp_path / 'imagenet.pdparams'))
    assert detect_kind(list(source)) == 'backbone'
    state_dict, report = convert_state_dict(source, _shapes(model.backbone), 'backbone')
    assert sorted(name for name, _ in report.dropped) == ['out.bias', 'out.weight']
    assert len(report.filled) == len(paddle_state) - 2
    assert all(name.endswith('num_batches_tracked') for name in report.synthesised)
    checkpoint = tmp_path / 'r50vd.pth'
    torch.save(dict(state_dict=state_dict, meta=dict()), checkpoint)

    from mmocr.registry import MODELS
    cfg = Config.fromfile(MODEL_CONFIG).model.backbone
    cfg.init_cfg = dict(type='Pretrained', checkpoint=str(checkpoint))
    backbone = MODELS.build(cfg)
    backbone.init_weights()
    backbone.eval()
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        for ours, reference in zip(backbone(x), ref_resnet50_vd(x, paddle_state)):
            _assert_close(ours, reference)


def test_stem_identity_filter_gives_the_normalised_subsampled_input(model):
    # conv1_1 copies input channel c (< 3) at its centre tap into output channel c, stride 2;
    # BN with distinct weight / bias / mean / variance then gives a known map.
    rng = np.random.default_rng(4)
    paddle_state = paddle_resnet50_vd(rng)
    weight = np.zeros((32, 3, 3, 3), np.float32)
    for channel in range(3):
        weight[channel, channel, 1, 1] = 1.0
    paddle_state['conv1_1._conv.weight'] = weight
    gamma, beta = np.float32([2.0, 0.5, 1.5]), np.float32([0.1, -0.2, 0.3])
    mean, var = np.float32([0.25, -0.5, 1.0]), np.float32([4.0, 0.25, 1.0])
    for key, value in (('weight', gamma), ('bias', beta), ('_mean', mean), ('_variance', var)):
        paddle_state[f'conv1_1._batch_norm.{key}'][:3] = value
    state_dict, _ = convert_state_dict(paddle_state, _shapes(model.backbone), 'backbone')
    model.backbone.load_state_dict(state_dict, strict=True)
    model.backbone.eval()
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        stem_out = model.backbone.stem[:3](x)
    for channel in range(3):
        expected = F.relu(gamma[channel] * (x[0, channel, ::2, ::2] - mean[channel]) /
                          math.sqrt(var[channel] + BN_EPS) + beta[channel])
        assert torch.allclose(stem_out[0, channel], expected, atol=1e-5)


def test_name_mapping_of_the_easy_to_get_wrong_layers():
    assert map_paddle_name('backbone.bb_0_0.short._conv.weight', 'detector')[0] == \
        'backbone.layer1.0.downsample.1.weight'
    assert map_paddle_name('bb_3_0.short._batch_norm._variance', 'backbone')[0] == \
        'layer4.0.downsample.2.running_var'
    assert map_paddle_name('bb_1_2.conv1._batch_norm._mean', 'backbone')[0] == \
        'layer2.2.bn2.running_mean'
    assert map_paddle_name('conv1_3._batch_norm.bias', 'backbone')[0] == 'stem.7.bias'
    assert map_paddle_name('neck.toplayer_.conv.weight', 'detector')[0] == \
        'neck.lateral_convs.3.conv.weight'
    assert map_paddle_name('neck.smooth3_.bn._mean', 'detector')[0] == \
        'neck.smooth_convs.0.bn.running_mean'
    assert map_paddle_name('head.bn1._variance', 'detector')[0] == 'det_head.fuse_bn.running_var'
    assert map_paddle_name('head.conv2.bias', 'detector')[0] == 'det_head.out_conv.bias'
    assert map_paddle_name('out.weight', 'backbone') == (
        None, 'ImageNet classifier, not part of the detector')
    assert map_paddle_name('head.conv3.weight', 'detector') == (None, None)


def test_fails_loudly_on_missing_unused_and_misshaped_tensors(model):
    rng = np.random.default_rng(6)
    targets = _shapes(model.backbone)
    state = paddle_resnet50_vd(rng)
    missing = dict(state)
    del missing['bb_2_5.conv2._batch_norm._variance']
    with pytest.raises(ConversionError, match=r'layer3\.5\.bn3\.running_var'):
        convert_state_dict(missing, targets, 'backbone')
    _, report = convert_state_dict(missing, targets, 'backbone', allow_missing=True)
    assert report.missing == ['layer3.5.bn3.running_var']

    unused = dict(state, **{'bb_9_0.conv0._conv.weight': np.zeros((1, 1, 1, 1), np.float32)})
    with pytest.raises(ConversionError, match=r'bb_9_0\.conv0\._conv\.weight'):
        convert_state_dict(unused, targets, 'backbone')
    _, report = convert_state_dict(unused, targets, 'backbone', allow_unused=True)
    assert report.unused == ['bb_9_0.conv0._conv.weight']

    misshaped = dict(state)
    misshaped['conv1_2._conv.weight'] = np.zeros((32, 32, 1, 1), np.float32)
    with pytest.raises(ConversionError, match=r'conv1_2\._conv\.weight \[32, 32, 1, 1\]'):
        convert_state_dict(misshaped, targets, 'backbone', allow_missing=True)


def test_load_pdparams_skips_the_structure_table_and_rejects_other_files(tmp_path):
    write_pdparams(tmp_path / 'a.pdparams', {'x.weight': np.ones(2, np.float32)})
    assert list(load_pdparams(str(tmp_path / 'a.pdparams'))) == ['x.weight']
    with open(tmp_path / 'list.pdparams', 'wb') as f:
        pickle.dump([1, 2], f)
    with pytest.raises(ValueError, match='list.pdparams: expected a pickled dict'):
        load_pdparams(str(tmp_path / 'list.pdparams'))
    with open(tmp_path / 'odd.pdparams', 'wb') as f:
        pickle.dump({'x': 'not an array'}, f)
    with pytest.raises(ValueError, match="entry 'x' is a str"):
        load_pdparams(str(tmp_path / 'odd.pdparams'))
    (tmp_path / 'text.pdparams').write_text('hello')
    with pytest.raises(ValueError, match='not a .pdparams pickle'):
        load_pdparams(str(tmp_path / 'text.pdparams'))


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'convert_paddle_weights', os.path.join(REPO, 'tools', 'convert_paddle_weights.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_command_line_tool_round_trip(model, tmp_path, capsys):
    tool = _load_tool()
    rng = np.random.default_rng(7)
    paddle_state = paddle_det_r50_vd_pse(rng)
    write_pdparams(tmp_path / 'det.pdparams', paddle_state)
    assert tool.main([str(tmp_path / 'det.pdparams'), str(tmp_path / 'out' / 'det.pth')]) == 0
    assert 'missing targets: 0' in capsys.readouterr().out
    checkpoint = torch.load(tmp_path / 'out' / 'det.pth', weights_only=False)
    assert checkpoint['meta']['kind'] == 'detector' and checkpoint['meta']['missing'] == []
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    assert torch.equal(model.det_head.out_conv.bias,
                       torch.from_numpy(paddle_state['head.conv2.bias']))

    # A detector file without its head fails unless --allow-missing is given.
    headless = {k: v for k, v in paddle_state.items() if not k.startswith('head.')}
    write_pdparams(tmp_path / 'headless.pdparams', headless)
    args = [str(tmp_path / 'headless.pdparams'), str(tmp_path / 'headless.pth'),
            '--kind', 'detector']
    assert tool.main(args) == 1
    assert 'det_head.fuse_conv.weight' in capsys.readouterr().err
    assert not (tmp_path / 'headless.pth').exists()
    assert tool.main(args + ['--allow-missing']) == 0

    # Backbone kind with the load_from prefix.
    imagenet = {k[len('backbone.'):]: v for k, v in paddle_state.items()
                if k.startswith('backbone.')}
    write_pdparams(tmp_path / 'imagenet.pdparams', imagenet)
    assert tool.main([str(tmp_path / 'imagenet.pdparams'), str(tmp_path / 'bb.pth'),
                      '--backbone-prefix']) == 0
    keys = torch.load(tmp_path / 'bb.pth', weights_only=False)['state_dict'].keys()
    assert all(key.startswith('backbone.') for key in keys)
