"""Fold inference-mode BatchNorm layers into the convolutions that feed them.

In eval mode ``BN(conv(x))`` is one convolution with rescaled weights and a bias. Folding removes
a full pass over every activation map: in the flagship network at bfloat16 BN costs about as
much as a third of the convolutions (docs/benchmarks.md). The pairs are found by running the
network once with hooks (a BN whose input is exactly the tensor a convolution returned), so no
module naming convention is assumed; the folded network is checked against the original on the
same input and discarded if they differ.
"""
import copy
from typing import List, Tuple

import torch
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_weights

# largest accepted |folded - original| per unit of the largest |output| (float32 rounding)
FOLD_TOLERANCE = 1e-4


def _conv_bn_pairs(module: nn.Module, example: Tensor) -> List[Tuple[nn.Conv2d, nn.Module]]:
    """(conv, bn) pairs where the BN's input is the conv's output, each conv used once."""
    outputs, calls, pairs = {}, {}, []

    def after_conv(conv, inputs, output):
        calls[conv] = calls.get(conv, 0) + 1
        outputs[id(output)] = (conv, output)

    def before_bn(bn, inputs):
        found = outputs.get(id(inputs[0]))
        if found is not None and found[1] is inputs[0]:
            pairs.append((found[0], bn))

    hooks = []
    for sub in module.modules():
        if isinstance(sub, nn.Conv2d):
            hooks.append(sub.register_forward_hook(after_conv))
        elif isinstance(sub, nn.BatchNorm2d):
            hooks.append(sub.register_forward_pre_hook(before_bn))
    try:
        with torch.no_grad():
            module(example)
    finally:
        for hook in hooks:
            hook.remove()
    bn_uses = {}
    for _, bn in pairs:
        bn_uses[bn] = bn_uses.get(bn, 0) + 1
    return [(conv, bn) for conv, bn in pairs if calls[conv] == 1 and bn_uses[bn] == 1
            and bn.track_running_stats and bn.running_mean is not None]


def fold_batch_norms(module: nn.Module, example: Tensor) -> Tuple[nn.Module, int]:
    """A copy of ``module`` (eval mode) with its conv → BN pairs folded into the convolutions.

    Args:
        module (nn.Module): in eval mode, float32.
        example (Tensor): an input ``module`` accepts (a small one is enough).

    Returns:
        tuple[nn.Module, int]: the folded copy and the number of folded BN layers; ``module``
        itself and 0 if nothing was folded or the copy's output differs from the original's.
    """
    folded = copy.deepcopy(module).eval()
    pairs = _conv_bn_pairs(folded, example)
    if not pairs:
        return module, 0
    parents = {
        id(child): (parent, name)
        for parent in folded.modules()
        for name, child in parent.named_children()
    }
    for conv, bn in pairs:
        conv.weight, conv.bias = fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean,
                                                      bn.running_var, bn.eps, bn.weight, bn.bias)
        parent, name = parents[id(bn)]
        setattr(parent, name, nn.Identity())
    with torch.no_grad():
        expected, got = module(example), folded(example)
    scale = max(1.0, expected.abs().max().item())
    if (got - expected).abs().max().item() > FOLD_TOLERANCE * scale:
        return module, 0
    return folded, len(pairs)


def fold_batch_norms_in_place(module: nn.Module, example: Tensor) -> int:
    """:func:`fold_batch_norms` applied to ``module`` itself, for a model that others hold
    references to (a Runner's, a DDP wrapper's): its folded BN layers become ``nn.Identity``
    and its convolutions take the folded weights. Nothing changes if the check fails.

    Returns:
        int: the number of folded BN layers.
    """
    folded, count = fold_batch_norms(module, example)
    if not count:
        return 0
    for name, sub in list(folded.named_modules()):
        original = module.get_submodule(name) if name else module
        if isinstance(sub, nn.Identity) and isinstance(original, nn.BatchNorm2d):
            parent_name, _, child = name.rpartition('.')
            setattr(
                module.get_submodule(parent_name) if parent_name else module, child, nn.Identity())
        elif isinstance(sub, nn.Conv2d):  # folded weights, and a bias where there was none
            original.weight, original.bias = sub.weight, sub.bias
    return count
