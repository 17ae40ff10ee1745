"""The trials table: one JSON line per finished trial, appended atomically, read to resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


class TrialsTable:
    """``OUT/trials.jsonl``: finished trials keyed by ``Trial.key`` (first record of a key wins).

    Each row is appended and fsynced under the file's lock (``atomic.append_line``), so a killed
    search leaves at most a torn last line: reading skips it (that trial simply runs again) and
    the next append cuts it off first, so it never swallows a finished trial's row.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.rows: dict[str, dict[str, Any]] = {}
        self.torn = 0
        if self.path.exists():
            for line in self.path.read_bytes().splitlines():
                try:
                    row = orjson.loads(line)
                    self.rows.setdefault(row["key"], row)
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    self.torn += 1

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def append(self, row: dict[str, Any]) -> None:
        """Record a finished trial (durable before this returns; see ``atomic.append_line``)."""
        from instructmine import atomic

        atomic.append_line(self.path, orjson.dumps(row))
        self.rows.setdefault(row["key"], row)

    def top(self) -> dict[int, float]:
        """Loss of every finished top-n trial, by n."""
        return {r["n"]: r["loss"] for r in self.rows.values() if r["arm"] == "top"}

    def full(self) -> dict[int, float]:
        """Loss of the finished full-pool trial, by n (at most one n per ranking)."""
        return {r["n"]: r["loss"] for r in self.rows.values() if r["arm"] == "full"}

    def random(self) -> dict[int, list[float]]:
        """Losses of the finished random trials, by n."""
        out: dict[int, list[float]] = {}
        for r in self.rows.values():
            if r["arm"] == "random":
                out.setdefault(r["n"], []).append(r["loss"])
        return out
