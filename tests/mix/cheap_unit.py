"""A cheap mixture unit for the Ray grid test, importable by Ray workers (tests/mix on their
path): the mixture pool's record count per category and a checksum of its ids."""

from __future__ import annotations

import zlib

from instructmine.io.pool import read_pool


def count_records(inp) -> dict[str, float]:
    """Records per category and a crc32 of the ids (0 for the None mixture)."""
    if inp.pool is None:
        return {"records": 0.0}
    table = read_pool(inp.pool)
    ids = "\n".join(table.column("id").to_pylist()).encode()
    return {"records": float(table.num_rows), "ids_crc": float(zlib.crc32(ids))}


def count_in_worker(inp) -> dict[str, float]:
    """:func:`count_records` plus the worker's pid and torch thread count; slow enough (0.3 s)
    that two workers both take units; fails for the mixture named by ``options["fail"]``."""
    import os
    import time

    import torch

    if inp.options.get("fail") == inp.mixture.name:
        raise ValueError(f"unit failed on purpose for {inp.mixture.name}")
    time.sleep(0.3)
    return {
        **count_records(inp),
        "pid": float(os.getpid()),
        "threads": float(torch.get_num_threads()),
    }
