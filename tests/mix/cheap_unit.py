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
