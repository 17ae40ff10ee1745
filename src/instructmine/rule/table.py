"""The experiments table: one JSON line per proxy experiment, read and validated.

Keys of every row: ``experiment_id`` (str), ``subset_id`` (str; the seeds of one sub-dataset
share it), ``seed`` (int), ``n_records`` (int), ``sources`` (source -> count), ``eval_loss``,
``base_eval_loss``, ``seconds`` (floats), ``protocol`` (str) and one numeric key per indicator
aggregate, ``<indicator>.mean`` or ``<indicator>.median`` (null when missing).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from instructmine.fingerprint import file_sha256

AGGREGATE = re.compile(r"^[A-Za-z0-9_]+\.(mean|median)$")
REQUIRED: dict[str, tuple[type, ...]] = {
    "experiment_id": (str,),
    "subset_id": (str,),
    "seed": (int,),
    "n_records": (int,),
    "sources": (dict,),
    "eval_loss": (int, float),
    "base_eval_loss": (int, float),
    "seconds": (int, float),
    "protocol": (str,),
}


class TableError(ValueError):
    """An experiments table that cannot be used, with the file and line at fault."""


@dataclass
class Subsets:
    """The table averaged over seeds: one row per sub-dataset.

    ``y`` is the mean over seeds of log eval loss; ``within_var`` the variance of log eval loss
    across the seeds of each sub-dataset (NaN with one seed).
    """

    ids: list[str]
    names: list[str]
    X: np.ndarray
    y: np.ndarray
    n_seeds: np.ndarray
    within_var: np.ndarray
    dropped: dict[str, str] = field(default_factory=dict)


@dataclass
class ExperimentTable:
    """Validated rows of an experiments table, with the file's SHA-256."""

    path: Path
    rows: list[dict[str, Any]]
    sha256: str

    def only(self, subset_ids: list[str] | set[str]) -> ExperimentTable:
        """The rows of the named sub-datasets only (same file and hash: a view, not a copy)."""
        keep = set(subset_ids)
        unknown = sorted(keep - {r["subset_id"] for r in self.rows})
        if unknown:
            raise TableError(f"{self.path}: no sub-datasets {unknown}")
        return ExperimentTable(
            self.path, [r for r in self.rows if r["subset_id"] in keep], self.sha256
        )

    @property
    def subset_ids(self) -> list[str]:
        """The distinct ``subset_id`` values, sorted."""
        return sorted({r["subset_id"] for r in self.rows})

    @property
    def aggregates(self) -> list[str]:
        """Every ``<indicator>.<agg>`` key found in the table, sorted."""
        return sorted({k for r in self.rows for k in r if AGGREGATE.match(k)})

    @property
    def protocols(self) -> list[str]:
        """The distinct proxy protocols of the rows."""
        return sorted({r["protocol"] for r in self.rows})

    @property
    def sources(self) -> list[str]:
        """Every source named in the rows' source mixes."""
        return sorted({s for r in self.rows for s in r["sources"]})

    def subsets(self, names: list[str] | None = None) -> Subsets:
        """Seeds averaged per ``subset_id``; aggregates with any missing value are dropped."""
        wanted = self.aggregates if names is None else list(names)
        unknown = [n for n in wanted if n not in self.aggregates]
        if unknown:
            raise TableError(f"{self.path}: no column {unknown}; the table has {self.aggregates}")
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in self.rows:
            groups.setdefault(r["subset_id"], []).append(r)
        ids = sorted(groups)
        dropped: dict[str, str] = {}
        kept = []
        for n in wanted:
            if any(r.get(n) is None for r in self.rows):
                dropped[n] = "missing values"
            else:
                kept.append(n)
        X = np.array(
            [[np.mean([r[n] for r in groups[i]]) for n in kept] for i in ids], dtype=float
        ).reshape(len(ids), len(kept))
        logs = [np.log([r["eval_loss"] for r in groups[i]]) for i in ids]
        y = np.array([v.mean() for v in logs])
        var = np.array([v.var(ddof=1) if len(v) > 1 else np.nan for v in logs])
        const = [n for j, n in enumerate(kept) if np.ptp(X[:, j]) == 0]
        for n in const:
            dropped[n] = "constant across sub-datasets"
        keep_idx = [j for j, n in enumerate(kept) if n not in const]
        return Subsets(
            ids=ids,
            names=[kept[j] for j in keep_idx],
            X=X[:, keep_idx],
            y=y,
            n_seeds=np.array([len(v) for v in logs]),
            within_var=var,
            dropped=dropped,
        )


def _check_row(row: Any, where: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise TableError(f"{where}: a row must be a JSON object")
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise TableError(f"{where}: missing keys {missing} (every row needs {list(REQUIRED)})")
    for key, types in REQUIRED.items():
        value = row[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise TableError(f"{where}: {key} must be {types[0].__name__}, got {value!r}")
    if not (math.isfinite(row["eval_loss"]) and row["eval_loss"] > 0):
        raise TableError(f"{where}: eval_loss must be a positive number, got {row['eval_loss']!r}")
    for key, value in row.items():
        if AGGREGATE.match(key) and value is not None:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not math.isfinite(value):
                raise TableError(f"{where}: {key} must be a finite number or null, got {value!r}")
    return row


def read_experiments(path: Path | str) -> ExperimentTable:
    """Read and validate an experiments table (JSON Lines); errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: no such experiments table (write one with `experiments run`)")
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                row = json.loads(line)
            except ValueError as e:
                raise TableError(f"{where}: not valid JSON ({e})") from None
            row = _check_row(row, where)
            eid = row["experiment_id"]
            if eid in seen:
                raise TableError(f"{where}: experiment_id {eid!r} repeats line {seen[eid]}")
            seen[eid] = lineno
            rows.append(row)
    if not rows:
        raise TableError(f"{path}: the experiments table is empty")
    return ExperimentTable(path=path, rows=rows, sha256=file_sha256(path))
