"""Runner tests use tiny models: keep torch on one thread (restored afterwards)."""

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run faster on one thread (no OpenMP spin-waits on a shared 2-core machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
