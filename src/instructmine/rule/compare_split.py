"""Which sub-datasets a comparison fits on and which it holds out, and their seed-averaged data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instructmine.rule.table import ExperimentTable, TableError

MIN_HELD_OUT = 3


@dataclass
class SubsetMeans:
    """Per sub-dataset: every aggregate averaged over seeds (NaN where a seed lacks it) and the
    mean over seeds of log eval loss."""

    ids: list[str]
    names: list[str]
    X: np.ndarray
    y: np.ndarray

    def column(self, name: str) -> np.ndarray:
        """One aggregate's values, in ``ids`` order."""
        return self.X[:, self.names.index(name)]


def subset_means(table: ExperimentTable, ids: list[str]) -> SubsetMeans:
    """Seed-averaged aggregates and log eval loss of the sub-datasets ``ids`` (in that order)."""
    groups: dict[str, list[dict]] = {}
    for r in table.rows:
        groups.setdefault(r["subset_id"], []).append(r)
    names = table.aggregates
    X = np.full((len(ids), len(names)), np.nan)
    for i, sid in enumerate(ids):
        for j, n in enumerate(names):
            vals = [r.get(n) for r in groups[sid]]
            if all(v is not None for v in vals):
                X[i, j] = float(np.mean(vals))
    y = np.array([np.mean(np.log([r["eval_loss"] for r in groups[s]])) for s in ids])
    return SubsetMeans(ids=list(ids), names=names, X=X, y=y)


def split_subsets(
    ids: list[str], fit_fraction: float, seed: int, holdout: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """(fit ids, held-out ids), disjoint. ``holdout`` names the held-out sub-datasets; otherwise a
    seeded random ``1 - fit_fraction`` share of them is held out."""
    ids = sorted(ids)
    if holdout:
        unknown = sorted(set(holdout) - set(ids))
        if unknown:
            raise TableError(f"--holdout names sub-datasets the table lacks: {unknown}")
        held = sorted(set(holdout))
    else:
        n_held = len(ids) - int(round(fit_fraction * len(ids)))
        perm = np.random.default_rng(seed).permutation(len(ids))
        held = sorted(ids[i] for i in perm[:n_held])
    fit = [i for i in ids if i not in set(held)]
    if len(held) < MIN_HELD_OUT or not fit:
        raise TableError(
            f"{len(ids)} sub-datasets split into {len(fit)} to fit and {len(held)} held out; "
            f"need at least {MIN_HELD_OUT} held out and some to fit (change --fit-fraction)"
        )
    return fit, held
