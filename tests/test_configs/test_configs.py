"""The flagship recipe config and the CPU demo config: values from DESIGN.md §2, every type
resolvable in its registry, and the models build on CPU."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import (DATASETS, HOOKS, LOG_PROCESSORS, LOOPS, METRICS,
                               MODEL_WRAPPERS, MODELS, OPTIM_WRAPPERS, OPTIMIZERS,
                               PARAM_SCHEDULERS, TRANSFORMS, VISBACKENDS, VISUALIZERS,
                               DefaultScope, init_default_scope)

from mmpse_ext.models.wrappers import CPUCapableDDP

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FLAGSHIP = osp.join(REPO, 'configs', 'pse_r50vd_icdar15.py')
DEMO = osp.join(REPO, 'configs', 'pse_r18_synthetic_demo.py')


@pytest.fixture(scope='module')
def flagship():
    return Config.fromfile(FLAGSHIP)


@pytest.fixture(scope='module')
def demo():
    return Config.fromfile(DEMO)


def test_flagship_optimizer_and_schedule(flagship):
    optimizer = flagship.optim_wrapper.optimizer
    assert optimizer == dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=5e-4)
    assert flagship.param_scheduler == [
        dict(type='MultiStepLR', milestones=[200, 400], gamma=0.1, by_epoch=True, end=600)]
    assert flagship.train_cfg.type == 'EpochBasedTrainLoop'
    assert flagship.train_cfg.max_epochs == 600
    assert flagship.train_dataloader.batch_size == 8
    assert flagship.auto_scale_lr.base_batch_size == 8 * 4


def test_flagship_amp_dynamic_scaling_from_1024(flagship, monkeypatch):
    ow = flagship.optim_wrapper
    assert ow.type == 'AmpOptimWrapper'
    assert ow.loss_scale == dict(init_scale=1024.0)
    # Build it the way the Runner does. AmpOptimWrapper asserts CUDA and torch's GradScaler
    # disables itself without CUDA, so pretend CUDA exists and record the scaler's arguments.
    from mmengine.optim.optimizer import amp_optimizer_wrapper
    scaler_kwargs = []

    class RecordingScaler:
        def __init__(self, **kwargs):
            scaler_kwargs.append(kwargs)

    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available', lambda: True)
    monkeypatch.setattr(amp_optimizer_wrapper, 'GradScaler', RecordingScaler)
    model = torch.nn.Linear(2, 2)
    cfg = ow.to_dict()
    cfg['optimizer'] = OPTIMIZERS.build(dict(cfg['optimizer'], params=model.parameters()))
    wrapper = OPTIM_WRAPPERS.build(cfg)
    assert type(wrapper).__name__ == 'AmpOptimWrapper'
    # a dict goes to GradScaler as is: dynamic scaling (growth/backoff) starting at 1024 ...
    assert scaler_kwargs == [dict(init_scale=1024.0)]
    # ... while a float loss_scale would have made it static (re-applied every step)
    assert wrapper._scale_update_param is None


def test_flagship_distributed_and_evaluation(flagship):
    assert flagship.sync_bn == 'torch'
    assert flagship.env_cfg.dist_cfg.backend == 'nccl'
    assert MODEL_WRAPPERS.get(flagship.model_wrapper_cfg.type) is CPUCapableDDP
    assert flagship.val_evaluator == dict(type='mmpse_ext.ICDAR2015HmeanMetric')
    assert flagship.test_evaluator == flagship.val_evaluator
    checkpoint = flagship.default_hooks.checkpoint
    assert (checkpoint.save_best, checkpoint.rule) == ('icdar/hmean', 'greater')
    assert flagship.train_cfg.val_interval == checkpoint.interval
    assert flagship.default_scope == 'mmocr'
    assert flagship.custom_imports == dict(imports=['mmpse_ext'], allow_failed_imports=False)
    assert flagship.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='pretrained/ResNet50_vd_ssld_pretrained.pth')


def _types(node, path=''):
    """(path, type) of every dict with a string 'type' in a config tree."""
    if isinstance(node, (dict, ConfigDict)):
        if isinstance(node.get('type'), str):
            yield path, node['type']
        for key, value in node.items():
            yield from _types(value, f'{path}.{key}' if path else str(key))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _types(value, f'{path}[{i}]')


# top-level key (prefix) -> registry that builds the types below it
REGISTRIES = [
    ('model_wrapper_cfg', MODEL_WRAPPERS),
    ('model', MODELS),
    ('optim_wrapper.optimizer', OPTIMIZERS),
    ('optim_wrapper', OPTIM_WRAPPERS),
    ('param_scheduler', PARAM_SCHEDULERS),
    ('train_cfg', LOOPS), ('val_cfg', LOOPS), ('test_cfg', LOOPS),
    ('default_hooks', HOOKS), ('custom_hooks', HOOKS),
    ('val_evaluator', METRICS), ('test_evaluator', METRICS),
    ('log_processor', LOG_PROCESSORS),
    ('visualizer.vis_backends', VISBACKENDS), ('vis_backends', VISBACKENDS),
    ('visualizer', VISUALIZERS),
]


def _registry_for(path):
    if '.pipeline[' in path or path.endswith('pipeline') or 'pipeline[' in path:
        return TRANSFORMS
    if path.endswith('init_cfg') or '.init_cfg[' in path:
        from mmengine.registry import WEIGHT_INITIALIZERS
        return WEIGHT_INITIALIZERS
    if path.endswith('.sampler'):
        from mmengine.registry import DATA_SAMPLERS
        return DATA_SAMPLERS
    if path.endswith('dataset') or path.startswith(('icdar2015_train', 'icdar2015_test')):
        return DATASETS
    for prefix, registry in REGISTRIES:
        if path == prefix or path.startswith(prefix + '.') or path.startswith(prefix + '['):
            return registry
    return None


def unresolved_types(cfg):
    """Check every typed dict against its registry in the config's default scope.

    Returns:
        tuple[list[str], int]: ``'path: type'`` of each type not found, and how many were checked.
    """
    unresolved, checked = [], 0
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        for path, type_name in _types(cfg.to_dict()):
            registry = _registry_for(path)
            if registry is None:
                continue
            if registry is not MODEL_WRAPPERS:  # the Runner calls the root's get() for wrappers
                # the default scope's registry (a Registry with no entries yet is falsy: no `or`)
                scoped = registry._get_root_registry()._search_child(cfg.default_scope)
                registry = registry if scoped is None else scoped
            checked += 1
            if registry.get(type_name) is None:
                unresolved.append(f'{path}: {type_name}')
    return unresolved, checked


@pytest.mark.parametrize('config_path', [FLAGSHIP, DEMO], ids=['flagship', 'demo'])
def test_every_type_resolves_in_the_default_scope(config_path):
    unresolved, checked = unresolved_types(Config.fromfile(config_path))
    assert unresolved == [], '\n'.join(unresolved)
    assert checked >= 30


def test_type_check_catches_unknown_and_unscoped_types(flagship):
    cfg = flagship.copy()
    cfg.merge_from_dict({'model.neck.type': 'PSEFPN',  # unscoped: not in mmocr's registry
                         'val_evaluator.type': 'mmpse_ext.NoSuchMetric'})
    unresolved, _ = unresolved_types(cfg)
    assert unresolved == ['model.neck: PSEFPN', 'val_evaluator: mmpse_ext.NoSuchMetric']


@pytest.mark.parametrize('config_path', [FLAGSHIP, DEMO], ids=['flagship', 'demo'])
def test_model_builds_and_runs_on_cpu(config_path):
    from mmocr.registry import MODELS as MMOCR_MODELS
    cfg = Config.fromfile(config_path)
    init_default_scope(cfg.default_scope)
    model = MMOCR_MODELS.build(cfg.model).eval()
    assert type(model).__name__ == 'PSENet'
    assert type(model.det_head).__module__.startswith('mmpse_ext.')
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, 64, 96), mode='tensor')
    assert logits.shape == (1, 7, 16, 24)  # 7 maps at 1/4 resolution


def test_demo_deviates_only_where_documented(demo, flagship):
    assert demo.default_scope == flagship.default_scope
    assert demo.optim_wrapper.type == 'OptimWrapper'  # fp32 on CPU
    assert demo.optim_wrapper.optimizer.type == 'Adam'
    assert demo.optim_wrapper.optimizer.weight_decay == 5e-4
    assert 'sync_bn' not in demo
    assert demo.val_evaluator == flagship.val_evaluator
    assert demo.model.det_head.postprocessor == flagship.model.det_head.postprocessor
    assert demo.model.det_head.module_loss == flagship.model.det_head.module_loss
    assert demo.model_wrapper_cfg == flagship.model_wrapper_cfg
    assert demo.train_cfg.val_interval == demo.train_cfg.max_epochs
