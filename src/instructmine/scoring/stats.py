"""Per-column statistics and correlations of indicator scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa


@dataclass
class ColumnStats:
    """Summary statistics of one indicator column."""

    n: int
    mean: float
    std: float
    min: float
    max: float


def column_stats(table: pa.Table, columns: Sequence[str]) -> dict[str, ColumnStats]:
    """Mean, standard deviation (ddof 0), min and max per column."""
    out = {}
    for c in columns:
        x = table.column(c).to_numpy().astype(np.float64)
        if len(x) == 0:
            out[c] = ColumnStats(0, float("nan"), float("nan"), float("nan"), float("nan"))
            continue
        out[c] = ColumnStats(
            len(x), float(x.mean()), float(x.std()), float(x.min()), float(x.max())
        )
    return out


def correlation(table: pa.Table, columns: Sequence[str]) -> dict[str, dict[str, float]]:
    """Pearson correlation between columns (NaN for a constant column)."""
    if not columns or table.num_rows < 2:
        return {}
    m = np.stack([table.column(c).to_numpy().astype(np.float64) for c in columns])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.corrcoef(m)
    r = np.atleast_2d(r)
    return {a: {b: float(r[i, j]) for j, b in enumerate(columns)} for i, a in enumerate(columns)}
