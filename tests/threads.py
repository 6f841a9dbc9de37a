"""The ``one_thread`` fixture, shared by the test packages whose tiny networks run on torch.

A package applies it to all its tests by importing it into its ``conftest.py``.
"""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Run these small-tensor tests on one intra-op thread.

    On the shared 2-core machine, two OpenMP threads competing with other processes make small
    tensor ops 10-30x slower (measured: masked decoding of 1,000 embeddings 3.8 s vs 0.12 s).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
