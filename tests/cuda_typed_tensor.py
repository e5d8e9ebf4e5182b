"""CUDA-typed tensors on a machine without a GPU, for testing device dispatch on CPU.

:class:`CudaTypedTensor` reports ``device='cuda'`` (``.is_cuda``, ``.device.type``), holds its
values in a CPU tensor, and runs every aten op on those values, so code written for CUDA tensors
(device-side upsampling, thresholds, packing, ``.cpu()`` transfers, gathers) executes on the CPU
with its CUDA branch taken. ``.cpu()`` / ``.to('cpu')`` return plain CPU tensors, as a device copy
would. For ``pse_ext`` ops it behaves like the dispatcher: if the loaded extension registered no
CUDA kernel for the op (the real answer on a CPU-only build), calling it raises the dispatcher's
``NotImplementedError``; ``emulate_pse_cuda_kernels(True)`` instead lets the CPU kernel stand in
for a CUDA kernel, recording the call in :data:`PSE_CALLS`. Within
``emulated_host_to_device_copies()``, ``cpu_tensor.to('cuda')`` / ``.cuda()`` give a CUDA-typed
copy instead of initialising CUDA.
"""
import contextlib

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_map

PSE_CALLS = []
_STATE = {'cuda_kernels': False}


@contextlib.contextmanager
def emulate_pse_cuda_kernels(enabled: bool = True):
    """Within the block, ``pse_ext`` ops on CUDA-typed tensors run their CPU kernel."""
    previous = _STATE['cuda_kernels']
    _STATE['cuda_kernels'] = enabled
    try:
        yield
    finally:
        _STATE['cuda_kernels'] = previous


def _is_cpu_target(kwargs) -> bool:
    device = kwargs.get('device')
    return device is not None and torch.device(device).type == 'cpu'


class CudaTypedTensor(torch.Tensor):
    """A tensor that says it is on ``cuda:0`` and computes on a CPU copy (see module doc)."""

    # Results come from __torch_dispatch__ only; torch 2.0's default __torch_function__ would
    # re-wrap them (a device-to-host copy would stay CUDA-typed).
    __torch_function__ = torch._C._disabled_torch_function_impl

    @staticmethod
    def __new__(cls, values: torch.Tensor):
        if values.device.type != 'cpu':
            raise ValueError(f'CudaTypedTensor wraps CPU values, got {values.device}')
        wrapper = torch.Tensor._make_wrapper_subclass(
            cls,
            values.shape,
            strides=values.stride(),
            dtype=values.dtype,
            device=torch.device('cuda', 0),
            requires_grad=values.requires_grad)
        wrapper.values = values
        return wrapper

    def __repr__(self):
        return f'CudaTypedTensor({self.values!r})'

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        unwrap = lambda x: x.values if isinstance(x, CudaTypedTensor) else x  # noqa: E731
        if func._schema.name.startswith('pse_ext::'):
            if not _STATE['cuda_kernels']:
                raise NotImplementedError(
                    f"Could not run '{func._schema.name}' with arguments from the 'CUDA' backend "
                    '(emulated: the loaded extension has no CUDA kernel)')
            PSE_CALLS.append(func._schema.name)
        if func is torch.ops.aten._to_copy.default and _is_cpu_target(kwargs):
            return func(*tree_map(unwrap, args), **kwargs)  # a device-to-host copy
        cpu_kwargs = {
            key: (torch.device('cpu') if key == 'device' else unwrap(value))
            for key, value in kwargs.items()
        }
        out = func(*tree_map(unwrap, args), **cpu_kwargs)
        wrap = lambda x: CudaTypedTensor(x) if isinstance(x, torch.Tensor) else x  # noqa: E731
        return tree_map(wrap, out)


def cuda_typed(values: torch.Tensor) -> CudaTypedTensor:
    """``values`` (CPU) as a CUDA-typed tensor."""
    return CudaTypedTensor(values.detach().clone())


def _copy_target(func, args, kwargs):
    """The device a ``Tensor.to`` / ``Tensor.cuda`` call copies to, or None."""
    if func is torch.Tensor.cuda:
        return torch.device('cuda')
    candidates = list(args[1:]) + [kwargs.get('device')]
    for candidate in candidates:
        if isinstance(candidate, (str, torch.device)):
            return torch.device(candidate)
    return None


class _HostToEmulatedDevice(TorchFunctionMode):

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.Tensor.to,
                    torch.Tensor.cuda) and not isinstance(args[0], CudaTypedTensor):
            target = _copy_target(func, args, kwargs)
            if target is not None and target.type == 'cuda':
                return CudaTypedTensor(args[0].detach().clone())
        return func(*args, **kwargs)


@contextlib.contextmanager
def emulated_host_to_device_copies():
    """Within the block, copies of CPU tensors to ``cuda`` give CUDA-typed tensors."""
    with _HostToEmulatedDevice():
        yield
