"""The results table: append-only JSON Lines, one row per finished unit, read to resume."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def json_line(row: Row) -> bytes:
    """The default row encoding: compact JSON, keys in the row's order."""
    return json.dumps(row, ensure_ascii=False, allow_nan=False).encode("utf-8")


class ResultsTable:
    """``path``: one JSON row per line, keyed by ``key`` (a field name or a function of a row).

    Reading takes every complete row and skips torn or foreign lines (a write killed half way:
    that unit simply runs again; ``torn`` counts them). ``rows`` maps key → the first row of
    that key; ``all_rows()`` lists every row in file order. ``append`` encodes a row with
    ``encode`` (each consumer keeps its own on-disk format) and writes it with
    ``atomic.append_line`` (durable, under the file's lock; a torn last line is cut off first).
    ``setup``: the digest of what a row depends on besides its key; stored in each row by
    the unit and compared by :meth:`check_setup`.
    """

    def __init__(
        self,
        path: Path | str,
        key: str | Callable[[Row], str] = "key",
        *,
        setup: str | None = None,
        encode: Callable[[Row], bytes] = json_line,
        required: tuple[str, ...] = (),
    ):
        self.path = Path(path)
        self._key = key
        self.setup = setup
        self.encode = encode
        self.required = required
        self.refresh()

    def key_of(self, row: Row) -> str:
        """The key of ``row``."""
        return str(row[self._key]) if isinstance(self._key, str) else self._key(row)

    def refresh(self) -> ResultsTable:
        """Re-read the file (other processes may have appended); returns self."""
        self._all: list[Row] = []
        self.rows: dict[str, Row] = {}
        self.torn = 0
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return self
        for line in data.splitlines():
            try:
                row = json.loads(line)
                key = self.key_of(row)
            except (ValueError, KeyError, TypeError):
                self.torn += 1
                continue
            self._all.append(row)
            self.rows.setdefault(key, row)
        return self

    def all_rows(self) -> list[Row]:
        """Every complete row, in file order."""
        return list(self._all)

    def done_keys(self) -> set[str]:
        """Keys of the finished units, as the file is now."""
        return set(self.refresh().rows)

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def append(self, row: Row) -> None:
        """Record a finished unit (durable before this returns)."""
        from instructmine import atomic

        missing = [k for k in self.required if k not in row]
        if missing:
            raise ValueError(f"{self.path}: row lacks {missing}")
        atomic.append_line(self.path, self.encode(row))
        self._all.append(row)
        self.rows.setdefault(self.key_of(row), row)

    def check_setup(self, what: str = "unit", changed: str = "another setup") -> None:
        """Refuse rows made with another ``setup`` (rows without one are taken as they are)."""
        if self.setup is None:
            return
        for key, row in self.rows.items():
            if row.get("setup", self.setup) != self.setup:
                raise ValueError(
                    f"{self.path}: {what} {key} was run with {changed}; write to a new `out:` "
                    "folder (or delete that file to start over)"
                )
