"""Helpers for running MMOCR's own tools (the installed mmocr's ``.mim/tools``) on our modules:
paths, the stock-swapped config (the snippet of docs/migrating_from_mmocr.md), tiny-size
--cfg-options and a subprocess runner with torch's default ``weights_only``."""
import os
import os.path as osp
import subprocess

import mmocr
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MMOCR_MIM = osp.join(osp.dirname(mmocr.__file__), '.mim')
MMOCR_TOOLS = osp.join(MMOCR_MIM, 'tools')

MIGRATION_DOC = osp.join(REPO, 'docs', 'migrating_from_mmocr.md')
SNIPPET_MARKER = '<!-- tested config: stock PSENet with our types -->'


def stock_swapped_config_text(document=MIGRATION_DOC):
    """The config block after SNIPPET_MARKER in a document (docs/migrating_from_mmocr.md), verbatim:
    MMOCR's stock PSENet config with the plugin loaded and our four types in; None if the
    document has no marker."""
    with open(document, encoding='utf-8') as f:
        text = f.read()
    if SNIPPET_MARKER not in text:
        return None
    after = text[text.index(SNIPPET_MARKER) + len(SNIPPET_MARKER):]
    start = after.index('```python\n') + len('```python\n')
    return after[start:after.index('```', start)]


#: Test-time post-processing that keeps every instance, so that a model trained for two
#: iterations still returns polygons (the tests compare them, they do not grade them).
KEEP_EVERY_INSTANCE = [
    'model.det_head.postprocessor.score_threshold=0.0',
    'model.det_head.postprocessor.min_kernel_area=0',
    'model.det_head.postprocessor.min_text_area=0',
]


def one_epoch_on(data_root):
    """--cfg-options shared by the tiny runs: the synthetic data, one seeded epoch, then a
    validation (4 images / batch 2 = 2 iterations), a checkpoint and a log line per step."""
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1',
        'randomness.seed=0',
    ]


def tiny_stock_options(data_root):
    """--cfg-options shrinking the stock MMOCR PSENet config to seconds on a CPU."""
    return [
        # ResNet18 at 1/8 width (mmdet's ResNet), plain BN, no ImageNet download
        'model.backbone.depth=18',
        'model.backbone.base_channels=8',
        'model.backbone.norm_cfg.type=BN',
        'model.backbone.init_cfg=None',
        'model.neck.in_channels=[8,16,32,64]',
        'model.neck.out_channels=16',
        'model.det_head.in_channels=[64]',
        'model.det_head.hidden_dim=16',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        # MMOCR's train pipeline: ShortScaleAspectJitter, TextDetRandomCrop, Pad at 128 px
        'train_dataloader.dataset.pipeline.4.short_size=128',
        'train_dataloader.dataset.pipeline.7.target_size=(128,128)',
        'train_dataloader.dataset.pipeline.8.size=(128,128)',
        'val_dataloader.dataset.pipeline.1.scale=(256,256)',
        'test_dataloader.dataset.pipeline.1.scale=(256,256)',
    ] + one_epoch_on(data_root)


def tiny_flagship_options(data_root):
    """--cfg-options shrinking configs/pse_r50vd_icdar15.py to seconds on a CPU."""
    return [
        'model.backbone.depth=18',
        'model.backbone.base_channels=8',
        'model.backbone.stem_channels=8',
        'model.backbone.init_cfg=None',
        'model.neck.in_channels=[8,16,32,64]',
        'model.neck.out_channels=16',
        'model.det_head.in_channels=64',
        'model.det_head.hidden_dim=16',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
    ] + one_epoch_on(data_root)


def tool_env():
    """The environment of a user's shell: torch's default weights_only, and mmpse_ext importable
    from where this process imports it (the checkout, or an installed copy in the floor job)."""
    import mmpse_ext
    env = dict(os.environ)
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    env.pop('TORCH_FORCE_WEIGHTS_ONLY_LOAD', None)
    ours = osp.dirname(osp.dirname(osp.abspath(mmpse_ext.__file__)))
    env['PYTHONPATH'] = os.pathsep.join([ours] +
                                        ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
    return env


def run_command(cmd, cwd, timeout=600):
    """Run a command, failing the test with its output's tail when it does not exit 0."""
    result = subprocess.run(
        cmd, cwd=cwd, env=tool_env(), capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(f'{" ".join(map(str, cmd[:3]))} ... exited {result.returncode}:\n'
                    f'{(result.stdout + result.stderr)[-4000:]}')
    return result
