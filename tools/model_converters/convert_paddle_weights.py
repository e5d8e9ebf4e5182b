"""Convert PaddleOCR PSENet weights (.pdparams) to an mmengine checkpoint of our model.

Examples:
    # ImageNet backbone for backbone.init_cfg=dict(type='Pretrained', checkpoint=...)
    python tools/model_converters/convert_paddle_weights.py \
        ResNet50_vd_ssld_pretrained.pdparams r50vd_ssld.pth
    # A trained det_r50_vd_pse model, for load_from / tools/test.py
    python tools/model_converters/convert_paddle_weights.py \
        det_r50_vd_pse/best_accuracy.pdparams psenet_paddle.pth

The target layout is the model of --config (default: the recipe's detector). The report on
stdout names every unfilled target and every source tensor without a place; the script refuses
to write the checkpoint if a target is unfilled (unless --allow-missing) or a source tensor has
no place (unless --allow-unused). The ImageNet classifier ``out.*`` is dropped. The name
correspondence is in docs/paddle_weights.md.

Every bad input (a file that is not a readable .pdparams state dict, tensors that do not fit
the model, a config that does not build, an output path that cannot be written) ends the
script with exit code 1 and one line on stderr that names the file and the problem. The source
is unpickled with an allow-list of numpy types, so a crafted file cannot run code
(``mmpse_ext.utils.paddle_weights.load_pdparams``).
"""
import argparse
import os
import sys
from typing import Dict, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_CONFIG = os.path.join(REPO_ROOT, 'configs', '_base_', 'models', 'pse_r50vd_fpn.py')
PROG = 'convert_paddle_weights'


class ToolError(Exception):
    """A bad input; the message is the one line the script prints before exiting with 1."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='PaddleOCR .pdparams file')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument(
        '--kind',
        choices=['auto', 'backbone', 'detector'],
        default='auto',
        help="'backbone' for an ImageNet file, 'detector' for det_r50_vd_pse; "
        "'auto' picks detector when neck/head tensors are present")
    parser.add_argument(
        '--config', default=DEFAULT_CONFIG, help='config whose `model` defines the target layout')
    parser.add_argument(
        '--backbone-prefix',
        action='store_true',
        help="backbone kind: prefix keys with 'backbone.' (for load_from)")
    parser.add_argument(
        '--allow-missing',
        action='store_true',
        help='write the checkpoint even if some target parameters are unfilled')
    parser.add_argument(
        '--allow-unused',
        action='store_true',
        help='write the checkpoint even if some source tensors have no place')
    return parser.parse_args(argv)


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


def output_problem(dst: str, src: str) -> Optional[str]:
    """Why ``dst`` cannot receive the checkpoint, checked before any work, or None."""
    path = os.path.abspath(dst)
    if os.path.isdir(path):
        return f'{dst}: is a directory, expected the checkpoint file name'
    if os.path.exists(path) and os.path.exists(src) and os.path.samefile(path, src):
        return f'{dst}: is the source file; refusing to overwrite it'
    ancestor = os.path.dirname(path)
    while not os.path.exists(ancestor):  # the first existing folder above dst
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        return f'{dst}: cannot be created: {ancestor} is not a directory'
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f'{dst}: cannot be written: no write permission in {ancestor}'
    return None


def build_target_shapes(config_path: str, kind: str) -> Dict[str, Tuple[int, ...]]:
    """Shapes of the target state dict: the whole model, or its backbone only.

    Raises:
        ToolError: the config is missing, does not parse, has no ``model`` or does not build.
    """
    from mmocr.registry import MODELS

    import mmpse_ext  # noqa: F401  (registers our modules)

    if not os.path.isfile(config_path):
        raise ToolError(f'{config_path}: no such config file')
    try:
        cfg = Config.fromfile(config_path)
    except Exception as error:  # mmengine raises many types on a broken config
        raise ToolError(f'{config_path}: cannot read the config ({_one_line(error)})') from None
    if 'model' not in cfg:
        raise ToolError(f'{config_path}: the config defines no `model`')
    try:
        init_default_scope(cfg.get('default_scope', 'mmocr'))
        model = MODELS.build(cfg.model)
    except Exception as error:  # the registry raises many types on a bad model config
        raise ToolError(f'{config_path}: cannot build its model ({_one_line(error)})') from None
    module = model.backbone if kind == 'backbone' else model
    return {name: tuple(value.shape) for name, value in module.state_dict().items()}


def save_checkpoint(checkpoint: dict, dst: str) -> None:
    """Write ``checkpoint`` to ``dst`` through a temporary file, so a failed write (disk full)
    leaves no partial checkpoint behind.

    Raises:
        ToolError: the folder cannot be created or the file cannot be written.
    """
    partial = f'{dst}.part'
    try:
        os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
        torch.save(checkpoint, partial)
        os.replace(partial, dst)
    except (OSError, RuntimeError) as error:  # torch's zip writer raises RuntimeError
        if os.path.isfile(partial):
            os.remove(partial)
        raise ToolError(f'{dst}: cannot write the checkpoint ({_one_line(error)})') from None


def convert(args: argparse.Namespace) -> None:
    """Load, convert, report and save; raises :class:`ToolError` on any bad input."""
    from mmpse_ext.utils.paddle_weights import (ConversionError, PdparamsError, convert_state_dict,
                                                detect_kind, load_pdparams)
    problem = output_problem(args.dst, args.src)
    if problem:
        raise ToolError(problem)
    try:
        source = load_pdparams(args.src)
    except PdparamsError as error:
        raise ToolError(str(error)) from None
    kind = detect_kind(list(source)) if args.kind == 'auto' else args.kind
    target_shapes = build_target_shapes(args.config, kind)
    print(f'[{PROG}] {args.src} ({kind}) -> {args.dst}')
    try:
        state_dict, report = convert_state_dict(
            source,
            target_shapes,
            kind,
            allow_missing=args.allow_missing,
            allow_unused=args.allow_unused)
    except ConversionError as error:
        if error.report is not None:
            print(error.report.summary())
        raise ToolError(f'{args.src}: {error}') from None
    print(report.summary())
    if kind == 'backbone' and args.backbone_prefix:
        state_dict = type(state_dict)((f'backbone.{k}', v) for k, v in state_dict.items())
    meta = dict(
        source=os.path.abspath(args.src),
        kind=kind,
        config=os.path.abspath(args.config),
        converter='mmpse_ext.utils.paddle_weights',
        missing=report.missing,
        dropped=[source_name for source_name, _ in report.dropped],
        unused=report.unused)
    save_checkpoint(dict(state_dict=state_dict, meta=meta), args.dst)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        convert(args)
    except ToolError as error:
        sys.stdout.flush()
        print(f'{PROG}: error: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
