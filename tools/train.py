#!/usr/bin/env python
"""Train a text detector from an mmengine config (MMOCR 1.x's tools/train.py, plus CPU fallbacks).

    python tools/train.py configs/pse_r50vd_icdar15.py [--work-dir DIR] [--amp] [--resume [CKPT]]
    tools/dist_train.sh configs/pse_r50vd_icdar15.py 4          # 4 processes via torchrun

Same flags and behaviour as MMOCR's script, plus: the environment report of
``tools/analysis_tools/collect_env.py`` (with our extension's build) is printed at start;
``--amp`` and
mmengine's ``AmpOptimWrapper`` train with :class:`mmpse_ext.engine.DeviceAgnosticAmpOptimWrapper`
where mmengine's wrapper cannot run (the CPU: autocast and dynamic loss scaling there too, with a
warning); ``--launcher pytorch`` uses gloo instead of nccl without an accelerator.
"""
import argparse
import logging
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

import mmpse_ext  # noqa: F401  (registers our modules even if a config lacks custom_imports)
from mmpse_ext.apis import build_tool_runner
from mmpse_ext.engine import run_amp_on_any_device, shutdown_distributed
from mmpse_ext.engine.device_fallbacks import DEVICE_AGNOSTIC_AMP


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a text detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint; without a path, resume from the latest checkpoint in '
        'the work dir (starts from scratch if there is none)')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic mixed precision (autocast in float16, bfloat16 on the CPU; dynamic '
        'loss scaling) with '
        f'{DEVICE_AGNOSTIC_AMP}, on any device (the CPU included)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by (total batch size / auto_scale_lr.base_batch_size)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs such as '
        'train_cfg.max_epochs=10 or "param_scheduler.0.milestones=[20,40]" (no spaces)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or --local_rank (older).
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_train_cfg(args) -> Config:
    """Load the config and apply the command-line options, as MMOCR's train.py does."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir priority: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper in ('AmpOptimWrapper', DEVICE_AGNOSTIC_AMP):
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING)
        elif optim_wrapper == 'OptimWrapper':
            cfg.optim_wrapper.type = DEVICE_AGNOSTIC_AMP
            cfg.optim_wrapper.loss_scale = 'dynamic'
        else:
            raise ValueError('--amp needs optim_wrapper.type OptimWrapper, AmpOptimWrapper or '
                             f'{DEVICE_AGNOSTIC_AMP}, got {optim_wrapper!r} in '
                             f'{args.config}')
    run_amp_on_any_device(cfg)

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None  # mmengine then finds the latest checkpoint in work_dir
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume: checkpoint {args.resume!r} does not exist')
        cfg.resume = True
        cfg.load_from = args.resume

    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise RuntimeError(
                f'--auto-scale-lr: {args.config} has no auto_scale_lr.base_batch_size')
        cfg.auto_scale_lr.enable = True
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = build_train_cfg(args)
    runner = build_tool_runner(cfg, args.launcher)
    runner.train()
    shutdown_distributed()


if __name__ == '__main__':
    main()
