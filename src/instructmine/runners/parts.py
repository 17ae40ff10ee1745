"""An append-only store of finished score chunks: one Parquet part file per chunk.

A part is written to a temporary name and renamed into place (atomic on POSIX), so a killed run
leaves either a whole part or none; the set of part files *is* the manifest of finished records,
so a re-run skips exactly those and nothing is lost or duplicated.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


class PartStore:
    """Part files of one (indicator, params, model) cache entry."""

    def __init__(self, root: Path, info: dict[str, Any]) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        for stale in root.glob(".tmp-*"):
            stale.unlink(missing_ok=True)  # left by a killed run; never renamed, so unfinished
        info_path = root / "cache.json"
        if not info_path.exists():
            write_atomic_text(info_path, json.dumps(info, indent=2, sort_keys=True))

    def parts(self) -> list[Path]:
        """Finished part files."""
        return sorted(self.root.glob("part-*.parquet"))

    def done_ids(self) -> pa.Array:
        """Ids of every finished record (empty when nothing is cached)."""
        arrays = [pq.read_table(p, columns=["id"]).column("id") for p in self.parts()]
        if not arrays:
            return pa.array([], pa.string())
        return pa.chunked_array(arrays, pa.string()).combine_chunks()

    def write(self, table: pa.Table) -> Path:
        """Write one finished chunk atomically."""
        name = f"part-{uuid.uuid4().hex}.parquet"
        tmp = self.root / f".tmp-{name}"
        pq.write_table(table, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / name)
        return self.root / name

    def read(self) -> pa.Table | None:
        """All finished rows (None when empty)."""
        parts = self.parts()
        if not parts:
            return None
        return pa.concat_tables([pq.read_table(p) for p in parts])


def write_atomic_text(path: Path, text: str) -> None:
    """Write a small text file via a temporary file and rename."""
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_atomic_table(table: pa.Table, path: Path) -> None:
    """Write a Parquet file via a temporary file and rename."""
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
