"""Child registries of MMOCR's, scope ``mmpse_ext``.

Configs that keep ``default_scope='mmocr'`` reach our modules as ``type='mmpse_ext.X'`` after
``custom_imports=dict(imports=['mmpse_ext'], allow_failed_imports=False)``; MMOCR's own modules of
the same name (``PSEHead``, ``PSEPostprocessor`` …) stay untouched. mmengine resolves an
*unscoped* nested type in the current default scope, so every type string that refers to one
of our modules is written scoped (``'mmpse_ext.PSELoss'``).

Only the kinds something registers into exist here (no hooks: none of ours is one).
"""
from mmengine.registry import Registry
from mmocr.registry import DATASETS as MMOCR_DATASETS
from mmocr.registry import LOOPS as MMOCR_LOOPS
from mmocr.registry import METRICS as MMOCR_METRICS
from mmocr.registry import MODEL_WRAPPERS as MMOCR_MODEL_WRAPPERS
from mmocr.registry import MODELS as MMOCR_MODELS
from mmocr.registry import OPTIM_WRAPPERS as MMOCR_OPTIM_WRAPPERS
from mmocr.registry import TRANSFORMS as MMOCR_TRANSFORMS

MODELS = Registry('model', parent=MMOCR_MODELS, scope='mmpse_ext', locations=['mmpse_ext.models'])
DATASETS = Registry(
    'dataset', parent=MMOCR_DATASETS, scope='mmpse_ext', locations=['mmpse_ext.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMOCR_TRANSFORMS, scope='mmpse_ext', locations=['mmpse_ext.datasets'])
METRICS = Registry(
    'metric', parent=MMOCR_METRICS, scope='mmpse_ext', locations=['mmpse_ext.evaluation'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMOCR_MODEL_WRAPPERS, scope='mmpse_ext', locations=['mmpse_ext.models'])
LOOPS = Registry('loop', parent=MMOCR_LOOPS, scope='mmpse_ext', locations=['mmpse_ext.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMOCR_OPTIM_WRAPPERS, scope='mmpse_ext', locations=['mmpse_ext.engine'])
