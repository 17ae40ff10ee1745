"""An append-only store of finished score chunks: one Parquet part file per chunk.

A part is written whole: locally to a temporary name renamed into place (atomic on POSIX), on
object storage (``s3://...``) in one upload to its final key, so a killed run leaves either a
whole part or none (``instructmine.storage``); the set of part files *is* the manifest of
finished records, so a re-run skips exactly those and nothing is lost or duplicated.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa

from instructmine import atomic
from instructmine.storage import Location, open_output


class PartStore:
    """Part files of one (indicator, params, model) cache entry."""

    def __init__(self, root: Path | str | Location, info: dict[str, Any]) -> None:
        self.root = open_output(root)
        self.root.mkdir()
        if self.root.local:
            atomic.remove_stale(self.root.path)  # left by a killed run; never renamed
        info_path = self.root / "cache.json"
        if not info_path.exists():
            info_path.write_text(json.dumps(info, indent=2, sort_keys=True))

    def parts(self) -> list[Location]:
        """Finished part files."""
        return self.root.list("part-", ".parquet")

    def done_ids(self) -> pa.Array:
        """Ids of every finished record (empty when nothing is cached)."""
        arrays = [p.read_table(columns=["id"]).column("id") for p in self.parts()]
        if not arrays:
            return pa.array([], pa.string())
        return pa.chunked_array(arrays, pa.string()).combine_chunks()

    def write(self, table: pa.Table, *, by_content: bool = False) -> Location:
        """Write one finished chunk atomically.

        With ``by_content`` the part is named by a hash of its ids, so a chunk written again
        (a Ray task retried after a worker died) replaces its first copy instead of adding one.
        """
        if by_content:
            ids = "\n".join(table.column("id").to_pylist()).encode()
            name = hashlib.sha256(ids).hexdigest()[:32]
        else:
            name = uuid.uuid4().hex
        part = self.root / f"part-{name}.parquet"
        part.write_table(table, fsync=True)
        return part

    def read(self) -> pa.Table | None:
        """All finished rows (None when empty)."""
        parts = self.parts()
        if not parts:
            return None
        return pa.concat_tables([p.read_table() for p in parts])
