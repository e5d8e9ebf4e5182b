"""The convolutions a reduced-precision network keeps in float32: the first one (it sees the
normalised image, whose 8-bit pixels bfloat16 barely represents) and the last one (it writes
the logits the post-processor thresholds). On the demo model they cause half of bfloat16's
logit error, for 0.1 % of the flagship's multiply-adds (docs/deploy.md, "Precision"); the int8
export keeps the same two float (:mod:`mmpse_ext.apis.onnx_quantization`)."""
from typing import Callable, List, Sequence

import torch
from torch import Tensor, nn

#: Names of the convolutions that can be kept float32.
KEEP_FLOAT_CHOICES = ('first_conv', 'last_conv')
#: What the bfloat16/float16 backends and the int8 export keep float32 by default.
DEFAULT_KEEP_FLOAT = ('first_conv', 'last_conv')


class Float32Conv(nn.Module):
    """Runs ``conv`` in float32 with autocast off, whatever the surrounding autocast says.

    Its output is float32; the next reduced-precision operator casts it back under autocast.
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.conv = conv.float()

    def forward(self, x: Tensor) -> Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return self.conv(x.float())


def check_keep_float(keep_float: Sequence[str]) -> None:
    """Raises ValueError naming what is not in :data:`KEEP_FLOAT_CHOICES`."""
    unknown = sorted(set(keep_float) - set(KEEP_FLOAT_CHOICES))
    if unknown:
        raise ValueError(f'keep_float: unknown {unknown}, choose from {KEEP_FLOAT_CHOICES}')


def convs_in_call_order(module: nn.Module, run: Callable[[], object]) -> List[str]:
    """Names (as in ``module.named_modules()``) of the ``Conv2d`` layers in the order ``run()``
    (a forward of ``module``) calls them, each once."""
    names = {sub: name for name, sub in module.named_modules() if isinstance(sub, nn.Conv2d)}
    order: List[str] = []

    def record(conv, inputs):
        if names[conv] not in order:
            order.append(names[conv])

    hooks = [conv.register_forward_pre_hook(record) for conv in names]
    try:
        with torch.no_grad():
            run()
    finally:
        for hook in hooks:
            hook.remove()
    return order


def keep_convs_float32(module: nn.Module,
                       run: Callable[[], object],
                       keep_float: Sequence[str] = DEFAULT_KEEP_FLOAT) -> List[str]:
    """Wrap the chosen convolutions of ``module`` in :class:`Float32Conv`, in place.

    Args:
        module (nn.Module): the network (float32 weights).
        run (callable): runs one forward of ``module`` (a small input is enough).
        keep_float (Sequence[str]): from :data:`KEEP_FLOAT_CHOICES`.

    Returns:
        list[str]: the names of the wrapped convolutions.
    """
    check_keep_float(keep_float)
    if not keep_float:
        return []
    order = convs_in_call_order(module, run)
    if not order:
        return []
    chosen = dict(first_conv=order[0], last_conv=order[-1])
    wrapped = list(dict.fromkeys(chosen[key] for key in KEEP_FLOAT_CHOICES if key in keep_float))
    modules = dict(module.named_modules())
    for name in wrapped:
        parent_name, _, child = name.rpartition('.')
        parent = modules[parent_name] if parent_name else module
        setattr(parent, child, Float32Conv(getattr(parent, child)))
    return wrapped


def reduced_precision_convs(module: nn.Module) -> List[nn.Conv2d]:
    """The ``Conv2d`` layers of ``module`` that are not inside a :class:`Float32Conv`."""
    kept = {id(sub.conv) for sub in module.modules() if isinstance(sub, Float32Conv)}
    return [sub for sub in module.modules() if isinstance(sub, nn.Conv2d) and id(sub) not in kept]
