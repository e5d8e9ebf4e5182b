"""The package without its compiled op, and with one built for another torch.

Each case runs in a fresh interpreter: an import hook plays the missing ``mmpse_ext._C`` (as in
a source checkout that was never built), or a fake build record plays a library compiled against
another torch (as after upgrading torch without rebuilding).
"""
import os.path as osp
import subprocess
import sys
import textwrap

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BUILD_COMMAND = 'pip install --no-build-isolation --no-deps .'

BLOCK_EXTENSION = '''
import importlib.abc
import sys


class MissingExtension(importlib.abc.MetaPathFinder):
    """Finds mmpse_ext._C nowhere, as Python does when the library was never built."""

    def find_spec(self, name, path=None, target=None):
        if name == 'mmpse_ext._C':
            raise ModuleNotFoundError(f'No module named {name!r}', name=name)
        return None


sys.meta_path.insert(0, MissingExtension())
'''

WITHOUT_EXTENSION = BLOCK_EXTENSION + '''
import os.path as osp
import tempfile

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import mmpse_ext
from mmpse_ext.datasets.synthetic import make_synthetic_icdar2015
from mmpse_ext.ops import (pse, progressive_scale_expansion,
                           progressive_scale_expansion_from_logits,
                           progressive_scale_expansion_packed)
from mmpse_ext.registry import DATASETS, METRICS, MODELS, TRANSFORMS

assert 'mmpse_ext._C' not in sys.modules
assert not pse.FAKE_KERNELS_REGISTERED
# The readers, converters, APIs and the environment report import too.
import mmpse_ext.apis
import mmpse_ext.datasets.parsers
import mmpse_ext.utils.paddle_weights
from mmpse_ext.utils import collect_env

report = collect_env(with_compiling_details=False)['mmpse_ext._C']
assert report == 'not built: run `pip install --no-build-isolation --no-deps .`', report
# The demo config, with its dataset, transforms, model and metric, builds and runs.
cfg = Config.fromfile(osp.join(sys.argv[1], 'configs', 'pse_r18_synthetic_demo.py'))
root = tempfile.mkdtemp()
make_synthetic_icdar2015(root, num_train=2, num_test=1, size_range=(96, 128), seed=1,
                         progress=lambda line: None)
with DefaultScope.overwrite_default_scope('mmocr'):
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = root
    dataset = DATASETS.build(dataset_cfg)
    sample = dataset[0]
    assert sample['data_samples'].gt_kernels.ndim == 3, 'PSETargets ran'
    for name in ('RandomScale', 'RandomRotateKeepSize', 'MinShortSideResize', 'PSETargets',
                 'TextAwareRandomCrop', 'PackPSEInputs'):
        assert TRANSFORMS.get('mmpse_ext.' + name) is not None, name
    metric = METRICS.build(cfg.val_evaluator)
    model = MODELS.build(cfg.model)
    batch = model.data_preprocessor(dict(inputs=[sample['inputs']],
                                         data_samples=[sample['data_samples']]), training=True)
    losses = model(**batch, mode='loss')
    assert all(torch.isfinite(value).all() for value in losses.values()), losses
# Only the op needs the library; each entry point names the build command.
kernels = torch.ones(2, 8, 8, dtype=torch.uint8)
calls = [lambda: progressive_scale_expansion(kernels, torch.rand(8, 8), 0),
         lambda: progressive_scale_expansion_from_logits(torch.zeros(2, 4, 4), 2, (8, 8), 0),
         lambda: progressive_scale_expansion_packed(kernels[0], 1, torch.zeros(4, 4), 2, 0)]
for call in calls:
    try:
        call()
    except ImportError as error:
        print('OP ERROR:', error)
    else:
        raise AssertionError('the op ran without its library')
print('METRIC', type(metric).__name__, 'DATASET', len(dataset))
'''

OTHER_TORCH_BUILD = '''
import sys
import types

record = types.ModuleType('mmpse_ext.ops._build_info')
record.BUILD_INFO = {'torch_version': '1.13.1+cpu'}
sys.modules['mmpse_ext.ops._build_info'] = record
try:
    import mmpse_ext  # noqa: F401
except ImportError as error:
    assert 'mmpse_ext._C' not in sys.modules, 'the mismatched library was loaded'
    print(type(error).__name__ + ': ' + str(error))
else:
    raise AssertionError('a library built for torch 1.13.1 was accepted')
'''


def _run(script, cwd, *args):
    """``python -c script args`` in ``cwd`` (not the checkout: mmpse_ext comes from where this
    environment has it, the editable checkout or an installed copy)."""
    return subprocess.run([sys.executable, '-c',
                           textwrap.dedent(script), *args],
                          cwd=str(cwd),
                          capture_output=True,
                          text=True,
                          timeout=300)


def test_everything_but_the_op_works_without_the_compiled_library(tmp_path):
    result = _run(WITHOUT_EXTENSION, tmp_path, REPO)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    errors = [line for line in result.stdout.splitlines() if line.startswith('OP ERROR:')]
    assert len(errors) == 3
    for line in errors:
        assert 'mmpse_ext._C (the pse_ext C++/CUDA op) is not built' in line
        assert f'`{BUILD_COMMAND}`' in line and torch.__version__ in line
    assert 'METRIC ICDAR2015HmeanMetric DATASET 2' in result.stdout


def test_a_library_built_for_another_torch_is_refused_with_the_rebuild_command(tmp_path):
    result = _run(OTHER_TORCH_BUILD, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    [line] = result.stdout.strip().splitlines()
    assert line == (f'ExtensionMismatchError: mmpse_ext._C was built against torch 1.13.1+cpu '
                    f'but torch {torch.__version__} is installed: rebuild it here with '
                    f'`{BUILD_COMMAND}` (add -e for an editable checkout) from the mmpse_ext '
                    'repository')
