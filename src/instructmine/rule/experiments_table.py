"""The experiments table: JSON Lines, one row per finished proxy experiment.

Columns: ``experiment_id``, ``subset_id``, ``seed``, ``n_records``, ``sources`` (source →
count), ``eval_loss``, ``base_eval_loss``, ``seconds``, ``protocol`` (hash of the proxy
config), and one ``<indicator>.<agg>`` number per aggregate (``mean``; ``median`` for
heavy-tailed indicators); ``null`` where missing. Rows are appended under a file lock, one
``write`` each; a line cut short by a kill is dropped on the next append.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from instructmine import atomic

REQUIRED = (
    "experiment_id",
    "subset_id",
    "seed",
    "n_records",
    "sources",
    "eval_loss",
    "base_eval_loss",
    "seconds",
    "protocol",
)


def read_rows(path: Path | str) -> list[dict[str, Any]]:
    """Complete rows of the table (an unfinished last line is ignored); [] if absent."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def append_row(path: Path | str, row: dict[str, Any]) -> None:
    """Append one row; a partial trailing line left by a killed writer is cut off first."""
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise ValueError(f"experiment row lacks {missing}")
    atomic.append_line(path, json.dumps(row, sort_keys=False, allow_nan=False).encode())
