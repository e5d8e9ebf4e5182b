"""Paddle .pdparams → our checkpoint: completeness checks and parity with Paddle's layout.

The reference forward passes below are written from PaddleOCR's layer definitions
(``det_resnet_vd.py``, ``necks/fpn.py``, ``heads/det_pse_head.py``) and read the Paddle-named
tensors directly, so a wrong name mapping (swapped FPN levels, BN mean/variance, the shortcut
of the first stage, the stride position) changes the converted model's output.
"""
import codecs
import math
import os
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from paddle_named_weights import DEPTH, paddle_det_r50_vd_pse, paddle_resnet50_vd, write_pdparams

from mmpse_ext.utils.paddle_weights import (ConversionError, PdparamsError, convert_state_dict,
                                            detect_kind, load_pdparams, map_paddle_name)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL_CONFIG = os.path.join(REPO, 'configs', '_base_', 'models', 'pse_r50vd_fpn.py')
BN_EPS = 1e-5


# ---- reference forward passes, Paddle layout --------------------------------------------------
def _t(state, name):
    return torch.from_numpy(state[name])


def ref_conv_bn(x,
                state,
                name,
                stride=1,
                act=True,
                vd=False,
                conv='_conv',
                bn='_batch_norm',
                bias=None):
    if vd:  # Paddle AvgPool2D(2, 2, ceil_mode=True), exclusive (padding not counted)
        x = F.avg_pool2d(x, 2, 2, ceil_mode=True, count_include_pad=False)
    weight = _t(state, f'{name}.{conv}.weight')
    x = F.conv2d(x, weight, bias, stride=stride, padding=(weight.shape[-1] - 1) // 2)
    x = F.batch_norm(
        x,
        _t(state, f'{name}.{bn}._mean'),
        _t(state, f'{name}.{bn}._variance'),
        _t(state, f'{name}.{bn}.weight'),
        _t(state, f'{name}.{bn}.bias'),
        training=False,
        eps=BN_EPS)
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
            short = x if block else ref_conv_bn(x, state, f'{name}.short', act=False, vd=stage != 0)
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
    out = ref_conv_bn(
        fuse, state, 'head', conv='conv1', bn='bn1', bias=_t(state, 'head.conv1.bias'))
    return F.conv2d(out, _t(state, 'head.conv2.weight'), _t(state, 'head.conv2.bias'))


# ---- helpers ----------------------------------------------------------------------------------
def _build_model():
    from mmocr.registry import MODELS

    import mmpse_ext  # noqa: F401
    init_default_scope('mmocr')
    return MODELS.build(Config.fromfile(MODEL_CONFIG).model)


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def _assert_close(ours, reference):
    scale = reference.abs().max().item()
    assert ours.shape == reference.shape
    assert (ours - reference).abs().max().item() <= 1e-4 * max(scale, 1.0)


pytestmark = pytest.mark.usefixtures('single_thread')


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
    assert map_paddle_name('out.weight',
                           'backbone') == (None, 'ImageNet classifier, not part of the detector')
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


def test_conversion_error_is_one_line_and_its_report_names_every_problem(model):
    state = paddle_resnet50_vd(np.random.default_rng(8))
    removed = sorted(name for name in state if name.startswith('bb_3_'))  # all of stage 4
    for name in removed:
        del state[name]
    state['conv1_1._batch_norm._mean'] = state['conv1_1._batch_norm._mean'].astype(np.uint16)
    with pytest.raises(ConversionError) as caught:
        convert_state_dict(state, _shapes(model.backbone), 'backbone')
    message = str(caught.value)
    assert '\n' not in message
    assert 'conv1_1._batch_norm._mean (uint16)' in message
    report = caught.value.report
    assert report.wrong_dtype == ['conv1_1._batch_norm._mean (uint16)']
    # every target of stage 4 is listed (BN counters are synthesised, not missing), and the
    # BN mean that was refused for its dtype is missing too
    expected_missing = {
        name
        for name in _shapes(model.backbone)
        if name.startswith('layer4.') and not name.endswith('batches_tracked')
    }
    assert set(report.missing) == expected_missing | {'stem.1.running_mean'}
    assert f'{len(expected_missing) + 1} target(s) not filled' in message


class _RunsCodeWhenUnpickled:
    """What a malicious .pdparams holds: unpickling it calls os.mkdir(path)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path, )


class _CallsGlobal:

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def test_load_pdparams_reads_what_paddle_save_writes(tmp_path):
    arrays = {
        'x.weight': np.arange(6, dtype=np.float32).reshape(2, 3),
        'x.bias': np.asfortranarray(np.arange(6, dtype=np.float16).reshape(3, 2)),
        'y._mean': np.float64([0.25, -1.5])
    }
    for protocol in (2, 3, 4, 5):
        write_pdparams(tmp_path / f'p{protocol}.pdparams', arrays, protocol=protocol)
        loaded = load_pdparams(str(tmp_path / f'p{protocol}.pdparams'))
        assert list(loaded) == list(arrays)  # the structure table is skipped
        for name, array in arrays.items():
            assert loaded[name].dtype == array.dtype
            np.testing.assert_array_equal(loaded[name], array)
    # numpy 1.x spells its pickled reconstructor numpy.core.multiarray, numpy 2.x
    # numpy._core.multiarray; protocol 2 writes the name as text, so both can be written here.
    data = pickle.dumps(arrays, protocol=2)
    for spelling in (b'numpy.core.multiarray', b'numpy._core.multiarray'):
        other = data.replace(b'numpy.core.multiarray',
                             spelling).replace(b'numpy._core.multiarray', spelling)
        (tmp_path / 'spelled.pdparams').write_bytes(other)
        np.testing.assert_array_equal(
            load_pdparams(str(tmp_path / 'spelled.pdparams'))['y._mean'], arrays['y._mean'])


def test_load_pdparams_refuses_a_pickle_that_would_run_code(tmp_path):
    marker = tmp_path / 'created_by_the_pickle'
    path = tmp_path / 'evil.pdparams'
    with open(path, 'wb') as f:
        pickle.dump({
            'x.weight': np.ones(2, np.float32),
            'y': _RunsCodeWhenUnpickled(str(marker))
        },
                    f,
                    protocol=4)
    with pytest.raises(
            PdparamsError, match=r'evil\.pdparams: refused: the pickle refers to '
            r'(posix|nt)\.mkdir'):
        load_pdparams(str(path))
    assert not marker.exists()
    with open(path, 'rb') as f:  # the payload is real: a plain unpickler runs it
        pickle.load(f)
    assert marker.is_dir()

    # protocol 2 writes Python 2 module names (__builtin__)
    for function, args, pattern in ((eval, ('1 + 1', ), r'refers to __builtin__\.eval'),
                                    (codecs.encode, ('abc', 'rot13'),
                                     r"refers to _codecs\.encode with the codec 'rot13'")):
        with open(path, 'wb') as f:
            pickle.dump({'x': _CallsGlobal(function, *args)}, f, protocol=2)
        with pytest.raises(PdparamsError, match=pattern):
            load_pdparams(str(path))


def _write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with open(path, 'wb') as f:
            pickle.dump(content, f, protocol=4)


GOOD_PICKLE = pickle.dumps({'x.weight': np.ones((4, 4), np.float32)}, protocol=4)


@pytest.mark.parametrize(
    'content, problem', [
        (b'', 'empty file (0 bytes)'),
        (b'hello, world\n', 'not a .pdparams file: it does not start like a pickle'),
        (b'\x80', 'truncated (1 bytes)'),
        (GOOD_PICKLE[:len(GOOD_PICKLE) // 2], 'truncated'),
        (GOOD_PICKLE[:-1], 'truncated'),
        (b'PK\x03\x04' + bytes(60), 'looks like a zip archive (a PyTorch checkpoint?)'),
        (b'\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff.', 'corrupt pickle'),
        ([1, 2], 'expected a pickled dict of name -> ndarray, got list'),
        ({}, 'holds no arrays'),
        ({
            'x': 'not an array'
        }, "entry 'x' is of type str, not an array"),
        ({
            3: np.ones(2)
        }, 'entry 3 has a name of type int, expected str'),
        ({
            'state_dict': {
                'x': np.ones(2)
            }
        }, "entry 'state_dict' is of type dict, not an array (a nested checkpoint?)"),
    ],
    ids=[
        'empty', 'text', 'one-byte', 'half', 'no-stop', 'zip', 'corrupt', 'list', 'no-arrays',
        'str-value', 'int-name', 'nested'
    ])
def test_load_pdparams_names_the_file_and_the_problem_in_one_line(tmp_path, content, problem):
    path = tmp_path / 'bad.pdparams'
    _write(path, content)
    with pytest.raises(PdparamsError) as caught:
        load_pdparams(str(path))
    message = str(caught.value)
    assert message.startswith(f'{path}: ') and '\n' not in message
    assert problem in message


def test_load_pdparams_on_a_missing_file_and_a_directory(tmp_path):
    with pytest.raises(PdparamsError, match=r'absent\.pdparams: no such file$'):
        load_pdparams(str(tmp_path / 'absent.pdparams'))
    with pytest.raises(PdparamsError, match='is a directory, expected a .pdparams file'):
        load_pdparams(str(tmp_path))
