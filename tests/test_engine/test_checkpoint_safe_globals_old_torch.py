"""Before torch 2.4 there is no ``torch.serialization.add_safe_globals`` (and ``torch.load`` does
not default to ``weights_only=True``): the allow-list is a no-op there, and importing mmpse_ext
does not fail. Hidden here on newer torch; real in the floor job on torch 2.0."""
import torch

from mmpse_ext.engine import allow_mmengine_checkpoint_globals


def test_the_allow_list_is_a_no_op_without_add_safe_globals(monkeypatch):
    monkeypatch.delattr(torch.serialization, 'add_safe_globals', raising=False)
    assert allow_mmengine_checkpoint_globals() is False
