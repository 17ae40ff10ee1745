"""One size-search trial as a unit of the execution engine (:mod:`instructmine.execute`).

:func:`run_trial` runs wherever the engine's backend puts it (this process, a spawned worker
or a Ray task); it builds the objective once per worker process (:func:`execute.memo`, keyed
by the search's setup digest), so a model loaded by the objective is loaded once per worker,
not once per trial.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from instructmine.search.objective import Ranking, SearchContext, Trial, build_objective


def make_context(
    ranked: str | None, by: str, descending: bool, pool: str | None, out: str
) -> SearchContext:
    """The context a factory gets (the ranking read from RANKED when one is given)."""
    ranking = Ranking.load(Path(ranked), by, descending) if ranked else None
    return SearchContext(
        ranking, Path(pool) if pool else (Path(ranked) if ranked else None), Path(out)
    )


def run_trial(
    spec: dict[str, Any], context_args: tuple, setup: str, trial: Trial, phase: str
) -> dict[str, Any]:
    """Evaluate one trial and return its trials-table row (raises on a non-finite loss)."""
    from instructmine.execute import memo
    from instructmine.search.trials import trial_row

    key = (setup, json.dumps(spec, sort_keys=True, default=str), tuple(context_args))
    objective = memo(key, lambda: build_objective(spec, make_context(*context_args)))
    start = time.perf_counter()
    loss = float(objective(trial))
    seconds = time.perf_counter() - start
    if not math.isfinite(loss):
        raise RuntimeError(f"trial {trial.key}: the objective returned {loss}")
    return trial_row(trial, phase, loss, seconds, setup)
