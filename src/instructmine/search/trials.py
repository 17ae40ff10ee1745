"""The trials table: one JSON line per finished trial, appended atomically, read to resume."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson


class TrialsTable:
    """``OUT/trials.jsonl``: finished trials keyed by ``Trial.key`` (first record of a key wins).

    Each row is written by one ``write`` of a whole line to a file opened with ``O_APPEND`` and
    then fsynced, so a killed search leaves at most a torn last line, which reading skips (that
    trial simply runs again).
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
        """Record a finished trial (durable before this returns)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = orjson.dumps(row) + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.rows.setdefault(row["key"], row)

    def top(self) -> dict[int, float]:
        """Loss of every finished top-n trial, by n."""
        return {r["n"]: r["loss"] for r in self.rows.values() if r["arm"] == "top"}

    def random(self) -> dict[int, list[float]]:
        """Losses of the finished random trials, by n."""
        out: dict[int, list[float]] = {}
        for r in self.rows.values():
            if r["arm"] == "random":
                out.setdefault(r["n"], []).append(r["loss"])
        return out
