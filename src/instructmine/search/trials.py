"""The trials table: one JSON line per finished trial, appended atomically, read to resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from instructmine.execute import ResultsTable


class TrialsTable(ResultsTable):
    """``OUT/trials.jsonl``: finished trials keyed by ``Trial.key`` (first record of a key wins).

    A :class:`~instructmine.execute.ResultsTable` in its own format (``orjson`` lines): each
    row is appended and fsynced under the file's lock, so a killed search leaves at most a torn
    last line: reading skips it (that trial simply runs again) and the next append cuts it off
    first, so it never swallows a finished trial's row.
    """

    def __init__(self, path: Path | str, setup: str | None = None):
        super().__init__(path, "key", setup=setup, encode=orjson.dumps)

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


def trial_row(
    trial: Any, phase: str | None, loss: float, seconds: float, setup: str, **extra: Any
) -> dict:
    """A finished trial's row (``phase`` left out when None: select-compare's units, which
    add ``extra`` fields before ``finished``)."""
    from datetime import UTC, datetime

    row: dict[str, Any] = {"key": trial.key, "n": trial.n, "arm": trial.arm, "seed": trial.seed}
    if phase is not None:
        row["phase"] = phase
    return {
        **row,
        "loss": loss,
        "seconds": round(seconds, 3),
        "setup": setup,
        **extra,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
