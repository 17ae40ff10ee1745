"""An append-only store of finished score chunks: one Parquet part file per chunk.

A part is written to a temporary name and renamed into place (atomic on POSIX), so a killed run
leaves either a whole part or none; the set of part files *is* the manifest of finished records,
so a re-run skips exactly those and nothing is lost or duplicated.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from instructmine import atomic


class PartStore:
    """Part files of one (indicator, params, model) cache entry."""

    def __init__(self, root: Path, info: dict[str, Any]) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        atomic.remove_stale(root)  # left by a killed run; never renamed, so unfinished
        info_path = root / "cache.json"
        if not info_path.exists():
            atomic.write_text(info_path, json.dumps(info, indent=2, sort_keys=True))

    def parts(self) -> list[Path]:
        """Finished part files."""
        return sorted(self.root.glob("part-*.parquet"))

    def done_ids(self) -> pa.Array:
        """Ids of every finished record (empty when nothing is cached)."""
        arrays = [pq.read_table(p, columns=["id"]).column("id") for p in self.parts()]
        if not arrays:
            return pa.array([], pa.string())
        return pa.chunked_array(arrays, pa.string()).combine_chunks()

    def write(self, table: pa.Table, *, by_content: bool = False) -> Path:
        """Write one finished chunk atomically.

        With ``by_content`` the part is named by a hash of its ids, so a chunk written again
        (a Ray task retried after a worker died) replaces its first copy instead of adding one.
        """
        if by_content:
            ids = "\n".join(table.column("id").to_pylist()).encode()
            name = hashlib.sha256(ids).hexdigest()[:32]
        else:
            name = uuid.uuid4().hex
        return atomic.write_table(table, self.root / f"part-{name}.parquet", fsync=True)

    def read(self) -> pa.Table | None:
        """All finished rows (None when empty)."""
        parts = self.parts()
        if not parts:
            return None
        return pa.concat_tables([pq.read_table(p) for p in parts])
