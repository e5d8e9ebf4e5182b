"""The ``pse_ext`` op in torch's machinery: ``torch.library.opcheck``, the fake (meta) kernel's
dynamic instance count, and tracing under ``torch.compile`` and ``torch.export``."""
import numpy as np
import pytest
import torch
from pse_reference import DEVICES, word_like_kernels
from torch_features import needs_fake_kernels, needs_opcheck

from mmpse_ext.ops import progressive_scale_expansion


@needs_opcheck
@pytest.mark.parametrize('device', DEVICES)
def test_opcheck(device):
    rng = np.random.default_rng(4)
    kernels = torch.from_numpy(word_like_kernels(24, 32, 4, 3, rng)).to(device)
    score = torch.rand(24, 32, generator=torch.Generator().manual_seed(0)).to(device)
    op = torch.ops.pse_ext.progressive_scale_expansion.default
    torch.library.opcheck(op, (kernels, score, 2))
    torch.library.opcheck(op, (kernels.bool(), score, 0))
    torch.library.opcheck(op, (kernels[:, :0], score[:0], 0))


@needs_fake_kernels
def test_fake_kernel_gives_dynamic_instance_count():
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import ShapeEnv
    with FakeTensorMode(shape_env=ShapeEnv()):
        labels, areas, sums, boxes = progressive_scale_expansion(
            torch.zeros(7, 16, 24, dtype=torch.uint8), torch.zeros(16, 24), 3)
    assert labels.shape == (16, 24) and labels.dtype == torch.int32
    assert isinstance(areas.shape[0], torch.SymInt)
    assert str(boxes.shape[0]) == str(areas.shape[0]) == str(sums.shape[0])
    assert (areas.dtype, sums.dtype, boxes.dtype) == (torch.int64, torch.float64, torch.int32)


def post_process(logits: torch.Tensor, min_area: int):
    """A PSENet-style use: kernels from logits masked by the text map, mean score per instance."""
    kernels = (logits > 0) & (logits[0:1] > 0)
    result = progressive_scale_expansion(kernels, torch.sigmoid(logits[0]), min_area)
    return result.labels, result.areas, result.score_sums / result.areas


class PostProcess(torch.nn.Module):

    def forward(self, logits: torch.Tensor):
        return post_process(logits, 2)


@needs_fake_kernels
def test_traces_under_torch_compile_and_export():
    logits = torch.randn(7, 32, 48, generator=torch.Generator().manual_seed(0))
    expected = post_process(logits, 2)
    assert len(expected[1]) > 0
    with torch._dynamo.config.patch(capture_dynamic_output_shape_ops=True):
        compiled = torch.compile(post_process, backend='aot_eager', fullgraph=True)
        for got, want in zip(compiled(logits, 2), expected):
            assert torch.equal(got, want)
    exported = torch.export.export(PostProcess(), (logits, ))
    assert 'pse_ext.progressive_scale_expansion' in exported.graph_module.code
    for got, want in zip(exported.module()(logits), expected):
        assert torch.equal(got, want)
