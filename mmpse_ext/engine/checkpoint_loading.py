"""Let mmengine 0.10.7 read its own checkpoints under torch >= 2.6.

mmengine loads checkpoints with ``torch.load(filename, map_location=...)``, i.e. torch's default
``weights_only``, which became True in torch 2.6. Runner checkpoints also pickle the message hub,
whose ``HistoryBuffer`` objects hold numpy arrays and bound methods (stored as
``getattr(HistoryBuffer, 'min')``), so ``--resume`` and ``load_from`` fail with "Unsupported global:
GLOBAL mmengine.logging.history_buffer.HistoryBuffer" (open-mmlab/mmengine#1655, not fixed in
0.10.7). ``getattr`` cannot be allow-listed safely, so the tools restore torch's pre-2.6 default
through its documented switch ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``: load only checkpoints you
trust, as with any pickle.
"""
import os

import torch
from mmengine.utils import digit_version

ENV_SWITCH = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'


def allow_full_checkpoint_loading() -> bool:
    """Make ``torch.load`` calls without an explicit ``weights_only`` unpickle fully.

    Respects an explicit choice: if the variable is already set (to anything), it is kept.

    Returns:
        bool: True if this call set the switch.
    """
    if digit_version(torch.__version__.split('+')[0]) < digit_version('2.6.0'):
        return False
    if ENV_SWITCH in os.environ:
        return False
    os.environ[ENV_SWITCH] = '1'
    return True
