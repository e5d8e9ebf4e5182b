"""A distributed data-parallel wrapper that also runs on CPU (gloo).

mmengine 0.10.7's ``Runner.wrap_model`` always passes ``device_ids=[LOCAL_RANK]`` to the model
wrapper, and torch's ``DistributedDataParallel`` rejects ``device_ids`` for a CPU module
("device_ids and output_device arguments only work with single-device/multiple-device GPU
modules"). This wrapper drops them when the module lives on the CPU, so a 2-process gloo run works
in CI; on a GPU it behaves exactly like :class:`mmengine.model.MMDistributedDataParallel`.
"""
from typing import Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from torch import nn

from mmpse_ext.registry import MODEL_WRAPPERS


def _module_device_type(module: nn.Module) -> str:
    """Return the device type ('cpu', 'cuda', …) of the module's first parameter or buffer."""
    for tensor in list(module.parameters()) + list(module.buffers()):
        return tensor.device.type
    return 'cpu'


def _has_sync_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.SyncBatchNorm) for m in module.modules())


@MODEL_WRAPPERS.register_module()
class CPUCapableDDP(MMDistributedDataParallel):
    """:class:`~mmengine.model.MMDistributedDataParallel` that accepts CPU modules.

    Select it with ``model_wrapper_cfg=dict(type='mmpse_ext.CPUCapableDDP', ...)``.

    On a CPU module it
      * drops ``device_ids`` / ``output_device`` (torch's DDP only takes them for GPU modules), and
      * reverts ``SyncBatchNorm`` layers to plain BatchNorm, because torch's ``SyncBatchNorm``
        refuses CPU input in distributed mode; each process then normalises with its own batch
        statistics (like MMOCR does when SyncBN is off), which is what a CPU smoke run needs.

    On any other device all arguments are passed through unchanged.

    Args:
        module (nn.Module): The model, already moved to its device.
        device_ids (Sequence[int | torch.device], optional): Passed to DDP for accelerator modules;
            ignored for CPU modules.
        output_device (int | torch.device, optional): As ``device_ids``.
        **kwargs: Other :class:`MMDistributedDataParallel` arguments (``broadcast_buffers``,
            ``find_unused_parameters``, ``detect_anomalous_params`` …).
    """

    def __init__(self,
                 module: nn.Module,
                 device_ids: Optional[Sequence[Union[int, torch.device]]] = None,
                 output_device: Optional[Union[int, torch.device]] = None,
                 **kwargs) -> None:
        if _module_device_type(module) == 'cpu':
            if device_ids is not None or output_device is not None:
                print_log(
                    f'CPUCapableDDP: the module is on the CPU; dropping device_ids={device_ids} '
                    f'and output_device={output_device} (torch DDP only takes them for GPU '
                    'modules).',
                    logger='current')
            device_ids = None
            output_device = None
            if _has_sync_batchnorm(module):
                print_log(
                    'CPUCapableDDP: SyncBatchNorm cannot run on the CPU; reverting it to '
                    'per-process BatchNorm.',
                    logger='current')
                module = revert_sync_batchnorm(module)
        super().__init__(
            module=module, device_ids=device_ids, output_device=output_device, **kwargs)
