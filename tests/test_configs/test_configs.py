"""The configs, by what they do: every type resolves, the models build and train, the BN momenta
act as Paddle's, the best-checkpoint key is the metric's, each setting is defined once, and
the loss's own targets equal the pipeline's."""
import ast
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import (DATASETS, HOOKS, LOG_PROCESSORS, LOOPS, METRICS, MODEL_WRAPPERS,
                               MODELS, OPTIM_WRAPPERS, OPTIMIZERS, PARAM_SCHEDULERS, TRANSFORMS,
                               VISBACKENDS, VISUALIZERS, DefaultScope, init_default_scope)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs')
FLAGSHIP = osp.join(CONFIGS, 'pse_r50vd_icdar15.py')
PAPER = osp.join(CONFIGS, 'pse_r50vd_icdar15_paper.py')
DEMO = osp.join(CONFIGS, 'pse_r18_synthetic_demo.py')
CTW1500 = osp.join(CONFIGS, 'pse_r50vd_ctw1500.py')
TOTALTEXT = osp.join(CONFIGS, 'pse_r50vd_totaltext.py')
CURVED_DEMO = osp.join(CONFIGS, 'pse_r18_synthetic_curved_demo.py')
ALL = [FLAGSHIP, PAPER, DEMO, CTW1500, TOTALTEXT, CURVED_DEMO]
IDS = ['flagship', 'paper', 'demo', 'ctw1500', 'totaltext', 'curved_demo']

pytestmark = pytest.mark.usefixtures('single_thread')


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
    ('train_cfg', LOOPS),
    ('val_cfg', LOOPS),
    ('test_cfg', LOOPS),
    ('default_hooks', HOOKS),
    ('custom_hooks', HOOKS),
    ('val_evaluator', METRICS),
    ('test_evaluator', METRICS),
    ('log_processor', LOG_PROCESSORS),
    ('visualizer.vis_backends', VISBACKENDS),
    ('vis_backends', VISBACKENDS),
    ('visualizer', VISUALIZERS),
]


def _registry_for(path):
    if 'pipeline[' in path or path.endswith(('pipeline', '.targets', '_pse_targets')):
        return TRANSFORMS
    if path.endswith('init_cfg') or '.init_cfg[' in path:
        from mmengine.registry import WEIGHT_INITIALIZERS
        return WEIGHT_INITIALIZERS
    if path.endswith('.sampler'):
        from mmengine.registry import DATA_SAMPLERS
        return DATA_SAMPLERS
    if path.endswith('dataset'):
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


@pytest.mark.parametrize('config_path', ALL, ids=IDS)
def test_every_type_resolves_in_the_default_scope(config_path):
    import mmpse_ext  # noqa: F401  (what custom_imports does)
    unresolved, checked = unresolved_types(Config.fromfile(config_path))
    assert unresolved == [], '\n'.join(unresolved)
    assert checked >= 30


def test_type_check_catches_unknown_and_unscoped_types():
    cfg = Config.fromfile(FLAGSHIP)
    cfg.merge_from_dict({
        'model.neck.type': 'PSEFPN',  # unscoped: not in mmocr's registry
        'val_evaluator.type': 'mmpse_ext.NoSuchMetric'
    })
    unresolved, _ = unresolved_types(cfg)
    assert unresolved == ['model.neck: PSEFPN', 'val_evaluator: mmpse_ext.NoSuchMetric']


def _build_model(config_path):
    from mmocr.registry import MODELS as MMOCR_MODELS
    cfg = Config.fromfile(config_path)
    init_default_scope(cfg.default_scope)
    cfg.model.backbone.init_cfg = None  # no converted ImageNet weights in the test tree
    return MMOCR_MODELS.build(cfg.model)


def _training_batch(size=(64, 64), batch=2):
    """Images with two bright words each, packed by the recipe's own targets and packer."""
    from mmpse_ext.datasets.transforms import PackPSEInputs, PSETargets
    rng = np.random.default_rng(0)
    inputs, samples = [], []
    for _ in range(batch):
        img = rng.integers(0, 60, (*size, 3)).astype(np.uint8)
        polygons = []
        for x, y in ((4, 6), (10, 36)):
            img[y:y + 14, x:x + 44] = 220
            polygons.append(np.array([x, y, x + 44, y, x + 44, y + 14, x, y + 14], np.float32))
        results = dict(
            img=img,
            img_shape=size,
            ori_shape=size,
            scale_factor=(1.0, 1.0),
            img_path='synthetic.png',
            gt_polygons=polygons,
            gt_bboxes=np.zeros((2, 4), np.float32),
            gt_bboxes_labels=np.zeros(2, np.int64),
            gt_ignored=np.zeros(2, bool))
        packed = PackPSEInputs()(PSETargets()(results))
        inputs.append(packed['inputs'])
        samples.append(packed['data_samples'])
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('config_path', ALL, ids=IDS)
def test_model_builds_and_runs_on_cpu(config_path):
    model = _build_model(config_path).eval()
    assert type(model).__name__ == 'PSENet'
    assert type(model.det_head).__module__.startswith('mmpse_ext.')
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, 64, 96), mode='tensor')
    assert logits.shape == (1, 7, 16, 24)  # 7 maps at 1/4 resolution


def test_flagship_amp_is_dynamic_scaling_from_1024():
    """Built as the Runner builds it, on this (CPU) machine: a real scaler from 1024 that
    halves on an overflow and skips that step (a float loss_scale would be static)."""
    from mmengine.registry import OPTIM_WRAPPERS, OPTIMIZERS, init_default_scope
    init_default_scope('mmocr')
    ow = Config.fromfile(FLAGSHIP).optim_wrapper.to_dict()
    model = torch.nn.Linear(2, 2)
    ow['optimizer'] = OPTIMIZERS.build(dict(ow['optimizer'], params=model.parameters()))
    wrapper = OPTIM_WRAPPERS.build(ow)
    assert wrapper._scale_update_param is None
    assert wrapper.loss_scaler.get_scale() == 1024.0
    before = model.weight.detach().clone()
    wrapper.update_params(model(torch.ones(1, 2)).sum() * float('inf'))
    assert wrapper.loss_scaler.get_scale() == 512.0
    assert torch.equal(model.weight, before)


def _bn_inputs(model, modules):
    """Forward hooks that record the input of each named BatchNorm's first call."""
    seen = {}

    def record(name):

        def hook(module, args, output):
            if name not in seen:
                seen[name] = args[0].detach().clone()

        return hook  # returns None: the module's output is kept

    handles = [model.get_submodule(name).register_forward_hook(record(name)) for name in modules]
    return seen, handles


@pytest.mark.parametrize(
    'config_path, neck_momentum', [(FLAGSHIP, 0.9), (DEMO, 0.1)], ids=['flagship', 'demo'])
def test_one_training_step_updates_running_stats_with_paddles_momenta(config_path, neck_momentum):
    from mmengine.optim import OptimWrapper
    torch.manual_seed(0)
    model = _build_model(config_path).train()
    layers = {
        'backbone.stem.1': 0.1,
        'backbone.layer1.0.bn1': 0.1,
        'neck.lateral_convs.0.bn': neck_momentum,
        'neck.smooth_convs.2.bn': neck_momentum,
        'det_head.fuse_bn': 0.1
    }
    layers = {
        name: m
        for name, m in layers.items()
        if isinstance(dict(model.named_modules()).get(name), torch.nn.BatchNorm2d)
    }
    assert len(layers) == 5, 'a BatchNorm the test reads is gone; update the names'
    before = {name: model.get_submodule(name).running_mean.clone() for name in layers}
    seen, handles = _bn_inputs(model, layers)
    optim_wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-4))
    losses = model.train_step(_training_batch(), optim_wrapper)
    for handle in handles:
        handle.remove()
    assert torch.isfinite(sum(losses.values()))
    for name, momentum in layers.items():
        batch_mean = seen[name].double().mean(dim=(0, 2, 3))
        expected = (1 - momentum) * before[name].double() + momentum * batch_mean
        actual = model.get_submodule(name).running_mean.double()
        assert torch.allclose(actual, expected, atol=1e-5), name
        # and not the other convention
        other = momentum * before[name].double() + (1 - momentum) * batch_mean
        assert not torch.allclose(actual, other, atol=1e-5), name


def test_sync_bn_conversion_keeps_the_neck_momentum():
    model = _build_model(FLAGSHIP)
    converted = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted.neck.lateral_convs[0].bn.momentum == 0.9
    assert converted.backbone.stem[1].momentum == 0.1


@pytest.mark.parametrize(
    'config_path', [FLAGSHIP, PAPER, CTW1500, TOTALTEXT],
    ids=['flagship', 'paper', 'ctw1500', 'totaltext'])
def test_best_checkpoint_key_is_what_the_metric_reports(config_path):
    from mmengine.structures import InstanceData
    from mmocr.structures import TextDetDataSample
    cfg = Config.fromfile(config_path)
    init_default_scope(cfg.default_scope)
    metric = METRICS.build(cfg.val_evaluator)
    sample = TextDetDataSample()
    sample.gt_instances = InstanceData(
        polygons=[np.array([0, 0, 10, 0, 10, 10, 0, 10], np.float32)],
        ignored=torch.tensor([False]))
    sample.pred_instances = InstanceData(
        polygons=[np.array([0, 0, 10, 0, 10, 10, 0, 10], np.float32)], scores=torch.tensor([0.9]))
    metric.process({}, [sample.to_dict()])
    results = metric.evaluate(1)
    assert cfg.default_hooks.checkpoint.save_best in results, sorted(results)
    assert results[cfg.default_hooks.checkpoint.save_best] == pytest.approx(1.0)


def test_validation_cadence_is_paddles_125_iterations():
    """Paddle's yml validates every 125 iterations (``eval_batch_step: [0, 125]``) of 4 GPUs x
    batch 8 on ICDAR2015's 1000 training images (docs/recipe.md). In whole epochs the nearest
    cadence is the only acceptable one: every other epoch count is further from 125."""
    cfg = Config.fromfile(FLAGSHIP)
    num_gpus, images = 4, 1000
    total_batch = num_gpus * cfg.train_dataloader.batch_size
    assert total_batch == cfg.auto_scale_lr.base_batch_size  # the lr is Paddle's at this batch
    # 31 or 32 iterations per epoch, whether the last partial batch is dropped or not
    for iterations_per_epoch in (images // total_batch, -(-images // total_batch)):
        distance = {epochs: abs(epochs * iterations_per_epoch - 125) for epochs in range(1, 126)}
        nearest = min(distance.values())
        assert [e for e, d in distance.items() if d == nearest] == [cfg.train_cfg.val_interval]


def _defined_keys(path):
    """Top-level names and the keyword names of top-level ``dict(...)`` assignments in one
    config file, as ``{'name', 'name.keyword'}``."""
    keys = set()
    for node in ast.parse(open(path).read()).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    keys.add(target.id)
                    if isinstance(node.value, ast.Call):
                        keys |= {f'{target.id}.{kw.arg}' for kw in node.value.keywords}
    return keys


def _chain(path):
    """The config file and every ``_base_`` file it inherits, depth first."""
    cfg_bases = []
    for node in ast.parse(open(path).read()).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets):
            cfg_bases = ast.literal_eval(node.value)
    cfg_bases = [cfg_bases] if isinstance(cfg_bases, str) else cfg_bases
    return [path] + [
        f for base in cfg_bases for f in _chain(osp.normpath(osp.join(osp.dirname(path), base)))
    ]


@pytest.mark.parametrize('key', [
    'train_cfg.val_interval', 'default_hooks.checkpoint', 'train_cfg.max_epochs', 'param_scheduler'
])
def test_each_flagship_setting_is_defined_in_one_file(key):
    files = [f for f in _chain(FLAGSHIP) if key in _defined_keys(f)]
    assert len(files) == 1, files


@pytest.mark.parametrize('config_path', [PAPER, DEMO], ids=['paper', 'demo'])
def test_loss_makes_the_same_targets_as_the_pipeline(config_path):
    cfg = Config.fromfile(config_path)
    pipeline_targets = next(
        dict(s) for s in cfg.train_dataloader.dataset.pipeline
        if s['type'] == 'mmpse_ext.PSETargets')
    assert dict(cfg.model.det_head.module_loss.targets) == pipeline_targets


def test_configs_name_no_missing_document():
    """Every ``*.md`` a config mentions is in the repository (at the root or under docs/)."""
    import glob
    import re
    for path in glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True):
        for doc in re.findall(r'(?<![\w/.-])([\w./-]*\w\.md)\b', open(path).read()):
            assert (osp.exists(osp.join(REPO, doc))
                    or osp.exists(osp.join(REPO, 'docs', doc))), (path, doc)
