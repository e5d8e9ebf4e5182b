"""Runner checkpoints load under torch >= 2.6 once the tools set the weights_only switch."""
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.utils import digit_version

from mmpse_ext.engine import allow_full_checkpoint_loading
from mmpse_ext.engine.checkpoint_loading import ENV_SWITCH

NEW_TORCH = digit_version(torch.__version__.split('+')[0]) >= digit_version('2.6.0')


def _runner_like_checkpoint(path):
    """What mmengine's Runner pickles besides tensors: a message hub with HistoryBuffers."""
    buffer = HistoryBuffer()
    buffer.update(np.float64(0.5))
    torch.save(dict(state_dict=dict(w=torch.ones(2)),
                    message_hub=dict(log_scalars=dict(loss=buffer))), path)


@pytest.mark.skipif(not NEW_TORCH, reason='torch < 2.6 does not default to weights_only=True')
def test_plain_torch_load_fails_then_works_with_switch(tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.pth'
    _runner_like_checkpoint(path)
    monkeypatch.setenv(ENV_SWITCH, 'placeholder')  # so monkeypatch restores the variable
    monkeypatch.delenv(ENV_SWITCH)
    with pytest.raises(Exception, match='HistoryBuffer'):
        torch.load(path)  # what mmengine 0.10.7 calls
    assert allow_full_checkpoint_loading() is True
    loaded = torch.load(path)
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    assert loaded['message_hub']['log_scalars']['loss'].current() == 0.5


def test_explicit_user_choice_is_kept(monkeypatch):
    monkeypatch.setenv(ENV_SWITCH, '0')
    assert allow_full_checkpoint_loading() is False
    assert os.environ[ENV_SWITCH] == '0'
