"""The experiments table: JSON Lines, one row per finished proxy experiment.

Columns: ``experiment_id``, ``subset_id``, ``seed``, ``n_records``, ``sources`` (source →
count), ``eval_loss``, ``base_eval_loss``, ``seconds``, ``protocol`` (hash of the proxy
config), and one ``<indicator>.<agg>`` number per aggregate (``mean``; ``median`` for
heavy-tailed indicators); ``null`` where missing. A :class:`~instructmine.execute.ResultsTable`
keyed by ``experiment_id``: rows are appended under a file lock, one ``write`` each; a line
cut short by a kill is dropped on the next append.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from instructmine.execute import ResultsTable

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


def _encode(row: dict[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=False, allow_nan=False).encode()


def experiments_table(path: Path | str) -> ResultsTable:
    """The table at ``path`` (its on-disk row format, keyed by ``experiment_id``)."""
    return ResultsTable(path, "experiment_id", encode=_encode, required=REQUIRED)


def read_rows(path: Path | str) -> list[dict[str, Any]]:
    """Complete rows of the table (an unfinished last line is ignored); [] if absent."""
    return experiments_table(path).all_rows()


def append_row(path: Path | str, row: dict[str, Any]) -> None:
    """Append one row; a partial trailing line left by a killed writer is cut off first."""
    experiments_table(path).append(row)
