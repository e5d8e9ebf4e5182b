"""fold_batch_norms: conv → BN pairs become one convolution with the original's outputs; BN
layers that do not directly follow a convolution, and folds that would change the output,
are left alone; the in-place variant changes the model object itself."""
import copy

import torch
from torch import nn

from mmpse_ext.engine import fold_batch_norms, fold_batch_norms_in_place


def trained_bn(channels, seed):
    bn = nn.BatchNorm2d(channels)
    generator = torch.Generator().manual_seed(seed)
    bn.running_mean.copy_(torch.randn(channels, generator=generator))
    bn.running_var.copy_(torch.rand(channels, generator=generator) + 0.5)
    bn.weight.data.copy_(torch.randn(channels, generator=generator))
    bn.bias.data.copy_(torch.randn(channels, generator=generator))
    return bn


class Block(nn.Module):

    def __init__(self, shared_output=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = trained_bn(8, 1)
        self.conv2 = nn.Conv2d(8, 8, 1)
        self.bn2 = trained_bn(8, 2)
        self.bn_after_add = trained_bn(8, 3)
        self.shared_output = shared_output

    def forward(self, x):
        a = self.bn1(self.conv1(x)).relu()
        b = self.conv2(a)
        out = self.bn2(b) + a
        if self.shared_output:  # conv2's output is also used without its BN
            out = out + b
        return self.bn_after_add(out)


def test_conv_bn_pairs_are_folded_with_the_same_output():
    torch.manual_seed(0)
    block = Block().eval()
    x = torch.randn(2, 3, 16, 16)
    folded, count = fold_batch_norms(block, x)
    assert count == 2
    assert isinstance(folded.bn1, nn.Identity) and isinstance(folded.bn2, nn.Identity)
    assert isinstance(folded.bn_after_add, nn.BatchNorm2d)  # follows an addition
    assert isinstance(block.bn1, nn.BatchNorm2d)  # the original is untouched
    other = torch.randn(1, 3, 24, 40)
    with torch.no_grad():
        torch.testing.assert_close(folded(other), block(other), rtol=1e-5, atol=1e-5)


def test_a_fold_that_changes_the_output_is_discarded():
    torch.manual_seed(0)
    block = Block(shared_output=True).eval()
    folded, count = fold_batch_norms(block, torch.randn(1, 3, 16, 16))
    assert folded is block and count == 0


def test_in_place_folding_changes_the_model_others_hold():
    torch.manual_seed(0)
    block = Block().eval()
    original = copy.deepcopy(block)
    holder = [block]  # e.g. a Runner's reference
    assert fold_batch_norms_in_place(block, torch.randn(2, 3, 16, 16)) == 2
    assert holder[0] is block
    assert isinstance(block.bn1, nn.Identity) and isinstance(block.bn2, nn.Identity)
    assert isinstance(block.bn_after_add, nn.BatchNorm2d)
    assert block.conv1.bias is not None  # conv1 had no bias; the fold gave it one
    other = torch.randn(1, 3, 24, 40)
    with torch.no_grad():
        torch.testing.assert_close(block(other), original(other), rtol=1e-5, atol=1e-5)
    unfoldable = Block(shared_output=True).eval()
    assert fold_batch_norms_in_place(unfoldable, torch.randn(1, 3, 16, 16)) == 0
    assert isinstance(unfoldable.bn1, nn.BatchNorm2d)
