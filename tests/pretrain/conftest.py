import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks run far faster on one thread, above all on a machine shared with other jobs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
