"""mmpse_ext plugs into MMOCR through child registries (scope ``mmpse_ext``)."""
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.utils import import_modules_from_strings

import mmpse_ext
from mmpse_ext import registry


def _mmocr_style_config():
    """A stock MMOCR-style config that pulls our head in next to MMOCR's own."""
    return Config(
        dict(
            default_scope='mmocr',
            custom_imports=dict(imports=['mmpse_ext'], allow_failed_imports=False),
            ours=dict(type='mmpse_ext.PSEHead', in_channels=64, hidden_dim=16, out_channel=7),
            stock=dict(type='PSEHead', in_channels=[64], hidden_dim=16, out_channel=7),
        ))


def test_child_registries_have_mmocr_parents():
    import mmocr.registry as mmocr_registry
    for name in ('MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'MODEL_WRAPPERS', 'OPTIM_WRAPPERS',
                 'LOOPS'):
        ours = getattr(registry, name)
        assert ours.scope == 'mmpse_ext'
        assert ours.parent is getattr(mmocr_registry, name), name


def test_every_child_registry_holds_a_module():
    """No empty registries: each child registry has at least one of our classes in it."""
    from mmengine.registry import Registry
    children = {
        name: value
        for name, value in vars(registry).items()
        if isinstance(value, Registry) and value.scope == 'mmpse_ext'
    }
    assert children, 'mmpse_ext.registry defines no child registry'
    for name, child in children.items():
        assert len(child.module_dict) > 0, f'{name} is empty'


def test_package_level_exports():
    """What MMOCR users import by name: the registered classes, from their subpackages."""
    from mmpse_ext.datasets import ICDAR2015Dataset, PackPSEInputs, PSETargets
    from mmpse_ext.engine import DeviceAgnosticAmpOptimWrapper, PrecisionTestLoop
    from mmpse_ext.evaluation import ICDAR2015HmeanMetric
    from mmpse_ext.models import PSEFPN, PSEHead, PSELoss, PSEPostprocessor
    for cls, kind in ((PSEHead, 'MODELS'), (PSEFPN, 'MODELS'), (PSELoss, 'MODELS'),
                      (PSEPostprocessor, 'MODELS'), (ICDAR2015Dataset, 'DATASETS'),
                      (PackPSEInputs, 'TRANSFORMS'), (PSETargets, 'TRANSFORMS'),
                      (ICDAR2015HmeanMetric, 'METRICS'), (DeviceAgnosticAmpOptimWrapper,
                                                          'OPTIM_WRAPPERS'), (PrecisionTestLoop,
                                                                              'LOOPS')):
        assert getattr(registry, kind).get(cls.__name__) is cls, cls.__name__


def test_mmocr_config_builds_ours_and_stock_side_by_side():
    from mmocr.models.textdet.heads import PSEHead as MMOCRPSEHead
    from mmocr.registry import MODELS as MMOCR_MODELS

    cfg = _mmocr_style_config()
    import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.default_scope)
    ours = MMOCR_MODELS.build(cfg.ours)
    stock = MMOCR_MODELS.build(cfg.stock)
    assert type(ours).__module__.startswith('mmpse_ext.')
    assert type(stock) is MMOCRPSEHead
    # Our registration did not replace MMOCR's class of the same name.
    assert MMOCR_MODELS.get('PSEHead') is MMOCRPSEHead
    assert registry.MODELS.get('PSEHead') is type(ours)


def test_unscoped_name_resolves_to_mmocr_under_mmocr_scope():
    with DefaultScope.overwrite_default_scope('mmocr'):
        from mmocr.registry import MODELS as MMOCR_MODELS
        cls = MMOCR_MODELS.get('PSEHead')
    assert not cls.__module__.startswith('mmpse_ext.')


def test_unknown_scoped_type_fails_with_its_name():
    from mmocr.registry import MODELS as MMOCR_MODELS
    init_default_scope('mmocr')
    with pytest.raises(KeyError, match='NoSuchHead'):
        MMOCR_MODELS.build(dict(type='mmpse_ext.NoSuchHead'))


def test_package_exposes_version():
    assert isinstance(mmpse_ext.__version__, str)
