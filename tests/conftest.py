import pytest
import torch


def pytest_collection_modifyitems(config, items):
    """Turn the ``needs_cuda`` mark into a visible skip on machines without a GPU."""
    if torch.cuda.is_available():
        return
    skip_cuda = pytest.mark.skip(reason='needs a CUDA device (none available)')
    for item in items:
        if 'needs_cuda' in item.keywords:
            item.add_marker(skip_cuda)
