"""Spearman correlations of several rankings of the same sub-datasets, with paired bootstrap CIs.

Every ranking is a score where higher means "predicted to have a higher log eval loss", so a
good ranking has a positive Spearman with the observed log eval loss. All rankings are scored on
the same bootstrap resamples of the sub-datasets, so differences between them are paired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Boot:
    """Bootstrap draws of each ranking's Spearman on shared resamples (NaN: degenerate draw)."""

    draws: dict[str, np.ndarray]
    n_boot: int
    seed: int


def spearman(score: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho of ``score`` and ``y`` (NaN when either is constant)."""
    from scipy.stats import spearmanr

    if len(y) < 3 or np.ptp(score) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(score, y).statistic)


def _rowwise_spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman of each row of ``a`` with the same row of ``b`` (ties get average ranks)."""
    from scipy.stats import rankdata

    ra = rankdata(a, axis=1)
    rb = rankdata(b, axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    den = np.sqrt((ra * ra).sum(axis=1) * (rb * rb).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (ra * rb).sum(axis=1) / den, np.nan)


def bootstrap(scores: dict[str, np.ndarray], y: np.ndarray, n_boot: int, seed: int) -> Boot:
    """Spearman of every score with ``y`` on ``n_boot`` shared resamples of the sub-datasets.

    The key ``"random"`` is added: a fresh random order in each resample, so its draws are
    the chance distribution on the same resamples (paired with the others).
    """
    rng = np.random.default_rng(seed)
    n = len(y)
    idx = rng.integers(0, n, size=(n_boot, n))
    yb = y[idx]
    draws = {name: _rowwise_spearman(s[idx], yb) for name, s in scores.items()}
    draws["random"] = _rowwise_spearman(rng.random((n_boot, n)), yb)
    return Boot(draws=draws, n_boot=n_boot, seed=seed)


def percentile_ci(draws: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile CI of the finite draws (NaN, NaN when there are none)."""
    ok = draws[np.isfinite(draws)]
    if ok.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(ok, [tail, 100 - tail])
    return float(lo), float(hi)


def random_orders(y: np.ndarray, n_orders: int, seed: int) -> np.ndarray:
    """Spearman of ``n_orders`` random orders of the sub-datasets with ``y`` (the chance
    distribution at this number of sub-datasets; its expectation is 0)."""
    rng = np.random.default_rng(seed)
    orders = rng.random((n_orders, len(y)))
    return _rowwise_spearman(orders, np.broadcast_to(y, orders.shape))
