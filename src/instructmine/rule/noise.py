"""The noise ceiling: the best R² a rule can reach given the seed-to-seed variance.

Two estimates, both from sub-datasets run with two or more seeds:

- ``variance``: 1 − (noise variance of a sub-dataset's seed mean) / (variance of the seed means
  across sub-datasets), the share of the observed variance that is not measurement noise;
- ``split_half``: the correlation across sub-datasets of two seeds' log losses, stepped up by
  Spearman–Brown to the mean number of seeds (the reliability of the averaged response).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from instructmine.rule.table import ExperimentTable


@dataclass
class NoiseCeiling:
    """Both estimates (None when the table lacks repeated seeds) and what they rest on."""

    variance: float | None
    split_half: float | None
    seed_sd: float | None
    n_repeated: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for a rule's fit statistics."""
        return asdict(self)


def noise_ceiling(table: ExperimentTable) -> NoiseCeiling:
    """The noise ceiling of the table's response, log eval loss averaged over seeds."""
    groups: dict[str, list[tuple[int, float]]] = {}
    for r in table.rows:
        groups.setdefault(r["subset_id"], []).append((r["seed"], float(np.log(r["eval_loss"]))))
    means = np.array([np.mean([v for _, v in g]) for g in groups.values()])
    repeated = [sorted(g) for g in groups.values() if len(g) > 1]
    if not repeated or len(means) < 3:
        return NoiseCeiling(None, None, None, len(repeated))
    within = np.mean([np.var([v for _, v in g], ddof=1) for g in repeated])
    n_seeds = np.mean([len(g) for g in groups.values()])
    total = float(np.var(means, ddof=1))
    variance = float(np.clip(1.0 - within / n_seeds / total, 0.0, 1.0)) if total > 0 else None
    split = None
    if len(repeated) >= 3:
        a = np.array([g[0][1] for g in repeated])
        b = np.array([g[1][1] for g in repeated])
        if a.std() > 0 and b.std() > 0:
            r = float(np.corrcoef(a, b)[0, 1])
            stepped = n_seeds * r / (1 + (n_seeds - 1) * r) if r > 0 else 0.0
            split = float(np.clip(stepped, 0.0, 1.0))
    return NoiseCeiling(variance, split, float(np.sqrt(within)), len(repeated))
