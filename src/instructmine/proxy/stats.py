"""The three numbers that judge a proxy protocol (issue 13): cost, signal-to-noise, agreement.

- **signal-to-noise**: the standard deviation of seed-0 eval loss across sub-datasets divided
  by the pooled seed-to-seed standard deviation (sub-datasets run at ≥ 2 seeds);
- **agreement**: Spearman correlation between two rankings of the same sub-datasets (proxy vs
  reference), with a percentile bootstrap CI over sub-datasets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class SignalToNoise:
    """Spread across sub-datasets over seed noise."""

    snr: float
    spread_sd: float
    seed_sd: float
    n_subsets: int
    n_noise_subsets: int


def signal_to_noise(rows: Sequence[dict[str, Any]]) -> SignalToNoise:
    """SNR from experiment-table rows (``subset_id``, ``seed``, ``eval_loss``).

    Raises ``ValueError`` without ≥ 2 sub-datasets at seed 0 and one sub-dataset at ≥ 2 seeds.
    """
    import numpy as np

    by_subset: dict[str, list[float]] = {}
    seed0: dict[str, float] = {}
    for r in rows:
        by_subset.setdefault(r["subset_id"], []).append(float(r["eval_loss"]))
        if int(r["seed"]) == 0:
            seed0[r["subset_id"]] = float(r["eval_loss"])
    groups = [np.array(v) for v in by_subset.values() if len(v) >= 2]
    if len(seed0) < 2 or not groups:
        raise ValueError(
            f"signal-to-noise needs ≥ 2 sub-datasets at seed 0 (have {len(seed0)}) and one "
            f"sub-dataset at ≥ 2 seeds (have {len(groups)})"
        )
    ss = sum(float(((g - g.mean()) ** 2).sum()) for g in groups)
    dof = sum(len(g) - 1 for g in groups)
    seed_sd = (ss / dof) ** 0.5
    spread = float(np.std(list(seed0.values()), ddof=1))
    snr = spread / seed_sd if seed_sd > 0 else float("inf")
    return SignalToNoise(snr, spread, seed_sd, len(seed0), len(groups))


@dataclass
class Agreement:
    """Spearman correlation with a bootstrap percentile CI."""

    spearman: float
    low: float
    high: float
    n: int


def _ranks(v: Any) -> Any:
    """Ranks with ties averaged."""
    import numpy as np

    order = np.argsort(v, kind="mergesort")
    ranks = np.empty(len(v), dtype=float)
    ranks[order] = np.arange(len(v), dtype=float)
    for value in np.unique(v):
        tie = v == value
        ranks[tie] = ranks[tie].mean()
    return ranks


def spearman(a: Any, b: Any) -> float:
    """Spearman rank correlation (Pearson of tie-averaged ranks); nan if a side is constant."""
    import numpy as np

    ra, rb = _ranks(np.asarray(a, dtype=float)), _ranks(np.asarray(b, dtype=float))
    if np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def spearman_ci(
    a: Sequence[float], b: Sequence[float], n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> Agreement:
    """Spearman of paired values and its percentile bootstrap CI (resampling pairs).

    Resamples whose ranks are constant are skipped (their correlation is undefined).
    """
    import numpy as np

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) != len(y) or len(x) < 3:
        raise ValueError(f"need ≥ 3 paired values, got {len(x)} and {len(y)}")
    rho = spearman(x, y)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        i = rng.integers(0, len(x), len(x))
        if np.ptp(x[i]) == 0 or np.ptp(y[i]) == 0:
            continue
        boots.append(spearman(x[i], y[i]))
    alpha = (1 - level) / 2
    lo, hi = np.nanquantile(boots, [alpha, 1 - alpha]) if boots else (np.nan, np.nan)
    return Agreement(rho, float(lo), float(hi), len(x))
