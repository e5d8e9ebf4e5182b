"""The fast mmcv build (.dev_scripts/mmcv_build) computes what a plain build computes.

The installed mmcv (built by .dev_scripts/setup_env.sh) is compared bit for bit with the outputs a
plain build of the same sdist gave on the same inputs (tests/data/mmcv_ops_plain_build.npz,
written by .dev_scripts/mmcv_build/mmcv_op_outputs.py; docs/setup.md says how), and with
torchvision's independent implementations where they exist.
"""
import importlib.util
import os
import os.path as osp
import subprocess

import numpy as np
import pytest
import torch
import torchvision

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PLAIN_OUTPUTS = osp.join(REPO, 'tests', 'data', 'mmcv_ops_plain_build.npz')
PCH_CXX = osp.join(REPO, '.dev_scripts', 'mmcv_build', 'pch_cxx.sh')


def load_op_outputs_module():
    path = osp.join(REPO, '.dev_scripts', 'mmcv_build', 'mmcv_op_outputs.py')
    spec = importlib.util.spec_from_file_location('mmcv_op_outputs', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def installed_outputs():
    return load_op_outputs_module().compute_outputs()


def test_installed_mmcv_equals_the_plain_build(installed_outputs):
    plain = np.load(PLAIN_OUTPUTS)
    import mmcv
    assert str(plain['mmcv_version']) == mmcv.__version__
    recorded = sorted(k for k in plain.files if k != 'mmcv_version')
    assert recorded == sorted(installed_outputs)
    different = [
        key for key in recorded
        if not np.array_equal(plain[key], installed_outputs[key], equal_nan=True)
    ]
    assert not different, f'mmcv ops differ from the plain build: {different}'


def test_nms_keeps_what_torchvision_keeps():
    from mmcv.ops import nms
    generator = torch.Generator().manual_seed(7)
    corner = torch.rand(200, 2, generator=generator) * 80
    boxes = torch.cat([corner, corner + torch.rand(200, 2, generator=generator) * 30 + 1], 1)
    scores = torch.rand(200, generator=generator)
    _, keep = nms(boxes, scores, 0.4)
    # mmcv's nms uses offset 0 by default, the same box convention as torchvision's.
    assert torch.equal(keep, torchvision.ops.nms(boxes, scores, 0.4))


def test_roi_align_equals_torchvision():
    from mmcv.ops import roi_align
    generator = torch.Generator().manual_seed(8)
    features = torch.randn(2, 5, 20, 24, generator=generator)
    corner = torch.rand(6, 2, generator=generator) * 60
    rois = torch.cat([
        torch.tensor([[0.], [1.], [0.], [1.], [0.], [1.]]), corner,
        corner + torch.rand(6, 2, generator=generator) * 30 + 1
    ],
                     dim=1)
    ours = roi_align(features, rois, (4, 3), 0.25, 2, 'avg', True)
    reference = torchvision.ops.roi_align(
        features, rois, (4, 3), spatial_scale=0.25, sampling_ratio=2, aligned=True)
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-6)


def test_deform_conv_equals_torchvision():
    from mmcv.ops import deform_conv2d, modulated_deform_conv2d
    generator = torch.Generator().manual_seed(9)
    x = torch.randn(2, 4, 10, 11, generator=generator)
    weight = torch.randn(3, 4, 3, 3, generator=generator)
    offset = torch.randn(2, 18, 10, 11, generator=generator) * 2
    mask = torch.rand(2, 9, 10, 11, generator=generator)
    reference = torchvision.ops.deform_conv2d(x, offset, weight, padding=1)
    torch.testing.assert_close(
        deform_conv2d(x, offset, weight, 1, 1), reference, rtol=1e-4, atol=1e-4)
    reference = torchvision.ops.deform_conv2d(x, offset, weight, padding=1, mask=mask)
    torch.testing.assert_close(
        modulated_deform_conv2d(x, offset, mask, weight, None, 1, 1),
        reference,
        rtol=1e-4,
        atol=1e-4)


@pytest.fixture
def fake_mmcv_tree(tmp_path):
    """A header at mmcv/ops/csrc/common like mmcv's, and two units."""
    common = tmp_path / 'mmcv' / 'ops' / 'csrc' / 'common'
    common.mkdir(parents=True)
    (common / 'pytorch_cpp_helper.hpp').write_text(
        '#ifndef HELPER\n#define HELPER\n#include <vector>\n'
        'inline int helper_size() { return static_cast<int>(std::vector<int>(3).size()); }\n'
        '#endif\n')
    (tmp_path / 'uses_helper.cpp'
     ).write_text('#include "pytorch_cpp_helper.hpp"\nint value() { return helper_size(); }\n')
    # Defines the header's function itself: only builds without the forced include.
    (tmp_path / 'clashes.cpp').write_text('int helper_size() { return 4; }\n')
    return tmp_path, common


def run_wrapper(tree, common, unit):
    obj = tree / (unit + '.o')
    cmd = [
        'bash', PCH_CXX, '-MMD', '-MF',
        str(obj) + '.d', '-O2', '-fPIC', f'-I{common}', '-c', '-c',
        str(tree / unit), '-o',
        str(obj), '-std=c++17'
    ]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=dict(os.environ, MMPSE_REAL_CXX='g++'),
        timeout=120), obj


def test_pch_wrapper_precompiles_once_and_falls_back(fake_mmcv_tree):
    tree, common = fake_mmcv_tree
    result, obj = run_wrapper(tree, common, 'uses_helper.cpp')
    assert result.returncode == 0, result.stderr
    assert obj.exists() and (tree / 'uses_helper.cpp.o.d').exists()
    pch = common / 'pytorch_cpp_helper.hpp.gch'
    assert pch.stat().st_size > 0
    built_at = pch.stat().st_mtime_ns

    result, obj = run_wrapper(tree, common, 'clashes.cpp')
    assert result.returncode == 0, result.stderr
    assert 'clashes.cpp does not build with the precompiled header' in result.stderr
    assert obj.exists()
    assert pch.stat().st_mtime_ns == built_at  # built once, reused

    # Links (no single source unit) pass straight through.
    lib = tree / 'lib.so'
    link = subprocess.run(
        ['bash', PCH_CXX, '-shared',
         str(tree / 'uses_helper.cpp.o'),
         str(obj), '-o',
         str(lib)],
        capture_output=True,
        text=True,
        env=dict(os.environ, MMPSE_REAL_CXX='g++'),
        timeout=120)
    assert link.returncode == 0, link.stderr
    assert lib.exists()
