"""Hooks the tool tests load into training subprocesses (via custom_imports + PYTHONPATH).

Registered in mmengine's root HOOKS (test helpers, not part of mmpse_ext); configs with
``default_scope='mmocr'`` find them through the registry's parent chain.
"""
import os
import os.path as osp

import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RecordRankStepsHook(Hook):
    """Append ``<iteration> <loss>`` to ``rank<R>.txt`` after every training iteration and write
    ``rank<R>_final.txt`` (world size, backend, parameter checksum) after training."""

    priority = 'LOWEST'

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        os.makedirs(self.out_dir, exist_ok=True)
        with open(osp.join(self.out_dir, f'rank{runner.rank}.txt'), 'a') as f:
            f.write(f'{runner.iter + 1} {float(outputs["loss"]):.6f}\n')

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        checksum = sum(float(p.detach().double().sum()) for p in model.parameters())
        backend = dist.get_backend() if dist.is_initialized() else 'none'
        with open(osp.join(self.out_dir, f'rank{runner.rank}_final.txt'), 'w') as f:
            f.write(f'{runner.world_size} {backend} {checksum!r} '
                    f'{next(model.parameters()).device.type}\n')


@HOOKS.register_module()
class CrashAtIterHook(Hook):
    """Kill the process (no clean-up, like a crash or a pre-emption) after iteration ``at_iter``
    (1-based) has finished."""

    priority = 'LOWEST'

    def __init__(self, at_iter: int, exit_code: int = 17) -> None:
        self.at_iter = at_iter
        self.exit_code = exit_code

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 == self.at_iter:
            os._exit(self.exit_code)


__all__ = ['RecordRankStepsHook', 'CrashAtIterHook']
