"""Random weights named and saved the way PaddleOCR's PSENet recipe names and saves them.

Shared by the converter's tests (``tests/test_utils/test_paddle_weights.py`` and
``tests/test_tools/test_convert_paddle_weights.py``). Names follow PaddleClas' ``ResNet_vd`` and
PaddleOCR's ``det_r50_vd_pse`` (docs/paddle_weights.md).
"""
import math
import pickle

import numpy as np

PADDLE_STRUCTURE_KEY = 'StructuredToParameterName@@'
DEPTH = [3, 4, 6, 3]
STAGE_IN = [64, 256, 512, 1024]
STAGE_WIDTH = [64, 128, 256, 512]


def _conv_bn(state, rng, name, out_ch, in_ch, k, conv='_conv', bn='_batch_norm'):
    state[f'{name}.{conv}.weight'] = rng.normal(0, math.sqrt(2.0 / (in_ch * k * k)),
                                                (out_ch, in_ch, k, k)).astype(np.float32)
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


def write_pdparams(path, state, protocol=4):
    """What paddle.save writes: a pickle of name → ndarray plus the structure table (pickle
    protocol 4 by default, 2-4 allowed)."""
    content = dict(state)
    content[PADDLE_STRUCTURE_KEY] = {name: f'param_{i}' for i, name in enumerate(state)}
    with open(path, 'wb') as f:
        pickle.dump(content, f, protocol=protocol)
