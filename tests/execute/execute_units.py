"""Module-level unit functions for the engine tests (importable by spawned processes)."""

from __future__ import annotations

import os


def square(key: str, x: int) -> dict:
    """A row: ``x`` squared, and the pid and torch threads of the process that ran it."""
    import torch

    if x < 0:
        raise ValueError(f"negative {x}")
    return {"key": key, "y": x * x, "pid": os.getpid(), "threads": torch.get_num_threads()}
