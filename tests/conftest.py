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


@pytest.fixture
def single_thread():
    """One intra-op thread for the test (restored after it): on a busy 2-core machine OpenMP's
    spinning threads make small convolutions far slower than one thread. Modules opt in with
    ``pytestmark = pytest.mark.usefixtures('single_thread')``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
