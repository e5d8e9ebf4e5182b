#!/usr/bin/env python
"""Evaluate a checkpoint on the config's test set (MMOCR 1.x's tools/test.py, plus CPU fallbacks).

    python tools/test.py configs/pse_r50vd_icdar15.py CKPT [--show-dir DIR] [--save-preds]
    python tools/test.py configs/pse_r50vd_icdar15.py CKPT --precision bf16   # CPU bfloat16
    tools/dist_test.sh configs/pse_r50vd_icdar15.py CKPT 4

Prints the environment report of ``tools/analysis_tools/collect_env.py`` (with our extension's
build) at start,
then the test metrics (``icdar2015/precision``, ``icdar2015/recall``, ``icdar2015/hmean`` for our
configs) through the Runner's logger. ``--launcher pytorch`` uses gloo on machines without an
accelerator.

A missing or unusable config or checkpoint (not valid Python, no model; empty, truncated, not a
checkpoint, or holding objects torch's safe loader refuses) ends the run before it starts with
one ``ERROR: ...`` line naming the file and the reason, exit status 1 (docs/deploy.md, "Bad
inputs and exit status").
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction

import mmpse_ext  # noqa: F401  (registers our modules even if a config lacks custom_imports)
from mmpse_ext.apis import build_tool_runner, read_checkpoint
from mmpse_ext.apis.checkpoint_reading import error_summary
from mmpse_ext.apis.model_loading import read_config_file, require_model
from mmpse_ext.engine import shutdown_distributed


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a text detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the evaluation log and predictions')
    parser.add_argument(
        '--save-preds',
        action='store_true',
        help='dump predictions to <work_dir>/<checkpoint name>_predictions.pkl for offline '
        'evaluation')
    parser.add_argument('--show', action='store_true', help='display the predictions in a window')
    parser.add_argument(
        '--show-dir',
        help='save images with predictions (green) and ground truth to '
        '<show_dir>/vis_data/vis_image/')
    parser.add_argument('--wait-time', type=float, default=2, help='display time per image (s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs such as test_dataloader.batch_size=2')
    parser.add_argument(
        '--precision',
        choices=['fp32', 'bf16', 'fp16'],
        default=None,
        help='run the network at this precision (mmpse_ext.PrecisionTestLoop: bf16 autocast + '
        'channels_last on the CPU, fp16 or bf16 on GPUs; BN folded, first and last conv '
        "float32, as PSEDetector); default: the config's test_cfg")
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_visualization(cfg: Config, args) -> Config:
    """Switch on the VisualizationHook (and its save dir) for --show / --show-dir."""
    if 'visualization' not in cfg.default_hooks:
        raise RuntimeError(
            f'--show/--show-dir need default_hooks.visualization in {args.config}, e.g. '
            "visualization=dict(type='VisualizationHook')")
    hook = cfg.default_hooks.visualization
    hook.enable = True
    hook.draw_gt = True
    hook.draw_pred = True
    if args.show:
        hook.show = True
        hook.wait_time = args.wait_time
    if args.show_dir:
        cfg.visualizer.save_dir = args.show_dir
        cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    return cfg


def build_test_cfg(args) -> Config:
    """Load the config and apply the command-line options, as MMOCR's test.py does."""
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg = read_config_file(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.precision is not None:
        cfg.test_cfg = dict(type='mmpse_ext.PrecisionTestLoop', precision=args.precision)

    if args.show and args.show_dir:
        raise ValueError('--show and --show-dir cannot be used together')
    if args.show or args.show_dir:
        cfg = enable_visualization(cfg, args)

    if args.save_preds:
        dump_metric = dict(
            type='DumpResults',
            out_file_path=osp.join(cfg.work_dir,
                                   f'{osp.basename(args.checkpoint)}_predictions.pkl'))
        evaluators = cfg.test_evaluator
        if isinstance(evaluators, (list, tuple)):
            cfg.test_evaluator = [*evaluators, dump_metric]
        else:
            cfg.test_evaluator = [evaluators, dump_metric]
    return cfg


def main(argv=None):
    args = parse_args(argv)
    try:
        cfg = build_test_cfg(args)
        require_model(cfg)
        read_checkpoint(args.checkpoint)  # the reason in one line, before the Runner fails
    except (OSError, ValueError, RuntimeError, ImportError) as error:
        print(f'ERROR: {error}', file=sys.stderr)
        sys.exit(1)
    try:
        runner = build_tool_runner(cfg, args.launcher)
    except (KeyError, TypeError) as error:  # registry / constructor errors of the config
        print(
            f'ERROR: config {args.config!r}: the Runner cannot be built from it: '
            f'{error_summary(error)}',
            file=sys.stderr)
        sys.exit(1)
    metrics = runner.test()
    shutdown_distributed()
    return metrics


if __name__ == '__main__':
    main()
