"""Convert PaddleOCR PSENet weights (.pdparams) to an mmengine checkpoint of our model.

Examples:
    # ImageNet backbone for backbone.init_cfg=dict(type='Pretrained', checkpoint=...)
    python tools/convert_paddle_weights.py ResNet50_vd_ssld_pretrained.pdparams r50vd_ssld.pth
    # A trained det_r50_vd_pse model, for load_from / tools/test.py
    python tools/convert_paddle_weights.py det_r50_vd_pse/best_accuracy.pdparams psenet_paddle.pth

The target layout is the model of --config (default: the recipe's detector). The script fails,
listing the names, if a target parameter is left unfilled (unless --allow-missing) or a source
tensor has no place (unless --allow-unused); the ImageNet classifier ``out.*`` is dropped.
"""
import argparse
import os
import sys

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(REPO_ROOT, 'configs', '_base_', 'models', 'pse_r50vd_fpn.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='PaddleOCR .pdparams file')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument('--kind', choices=['auto', 'backbone', 'detector'], default='auto',
                        help="'backbone' for an ImageNet file, 'detector' for det_r50_vd_pse; "
                        "'auto' picks detector when neck/head tensors are present")
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='config whose `model` defines the target layout')
    parser.add_argument('--backbone-prefix', action='store_true',
                        help="backbone kind: prefix keys with 'backbone.' (for load_from)")
    parser.add_argument('--allow-missing', action='store_true',
                        help='write the checkpoint even if some target parameters are unfilled')
    parser.add_argument('--allow-unused', action='store_true',
                        help='write the checkpoint even if some source tensors have no place')
    return parser.parse_args(argv)


def build_target_shapes(config_path: str, kind: str):
    """Shapes of the target state dict: the whole model, or its backbone only."""
    import mmpse_ext  # noqa: F401  (registers our modules)
    from mmocr.registry import MODELS

    cfg = Config.fromfile(config_path)
    init_default_scope(cfg.get('default_scope', 'mmocr'))
    model = MODELS.build(cfg.model)
    module = model.backbone if kind == 'backbone' else model
    return {name: tuple(value.shape) for name, value in module.state_dict().items()}


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmpse_ext.models.paddle_weights import (ConversionError, convert_state_dict,
                                                 detect_kind, load_pdparams)
    source = load_pdparams(args.src)
    kind = detect_kind(list(source)) if args.kind == 'auto' else args.kind
    target_shapes = build_target_shapes(args.config, kind)
    try:
        state_dict, report = convert_state_dict(
            source, target_shapes, kind, allow_missing=args.allow_missing,
            allow_unused=args.allow_unused)
    except ConversionError as error:
        print(f'[convert_paddle_weights] {args.src}: {error}', file=sys.stderr)
        return 1
    if kind == 'backbone' and args.backbone_prefix:
        state_dict = type(state_dict)((f'backbone.{k}', v) for k, v in state_dict.items())
    print(f'[convert_paddle_weights] {args.src} ({kind}) -> {args.dst}')
    print(report.summary())
    meta = dict(
        source=os.path.abspath(args.src), kind=kind, config=os.path.abspath(args.config),
        converter='mmpse_ext.models.paddle_weights', missing=report.missing,
        dropped=[source_name for source_name, _ in report.dropped], unused=report.unused)
    os.makedirs(os.path.dirname(os.path.abspath(args.dst)), exist_ok=True)
    torch.save(dict(state_dict=state_dict, meta=meta), args.dst)
    return 0


if __name__ == '__main__':
    sys.exit(main())
