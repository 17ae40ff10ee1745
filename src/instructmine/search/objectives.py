"""Ready-made objective factories for the size search.

``subset_loss`` is the hook the proxy fine-tune plugs into: it writes each trial's subset
(top-n by the rule, or random n) as a pool file in the trial's folder and calls a function
``fit(pool: Path, workdir: Path, **params) -> float`` named in the config, e.g.::

    objective:
      factory: instructmine.search.objectives:subset_loss
      params:
        fit: instructmine.proxy.objective:eval_loss  # the rule's proxy fine-tune
        fit_params: {candidates: pool.parquet, eval: eval.parquet}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instructmine.search.objective import Objective, SearchContext, load_factory
from instructmine.select.subsets import Trial


def subset_loss(
    context: SearchContext, fit: str, fit_params: dict[str, Any] | None = None
) -> Objective:
    """Objective: ``fit(subset_pool, trial_dir, **fit_params)`` on each trial's subset."""
    if context.ranking is None or context.pool is None:
        raise ValueError("subset_loss needs `ranked:` (and the pool) in the search config")
    fn = load_factory(fit)
    params = dict(fit_params or {})

    def objective(trial: Trial) -> float:
        from instructmine.io.pool import write_subset

        work = context.trial_dir(trial)
        subset = work / "pool.parquet"
        write_subset(context.pool, context.ranking.subset(trial), subset)
        return float(fn(Path(subset), work, **params))

    return objective
