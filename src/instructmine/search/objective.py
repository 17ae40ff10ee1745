"""The objective interface of the size search (its trials and rankings: ``select.subsets``).

An objective is built once per worker process by a factory named in the config
(``objective.factory: "package.module:function"``)::

    def function(context: SearchContext, **params) -> Objective: ...

and then called once per trial: ``loss = objective(trial)``. A trial is ``(n, arm, seed)``:
``arm="top"`` means the top-n records of the ranking, ``arm="random"`` n records drawn with
``seed``, ``arm="full"`` every ranked record (the full-pool baseline, n = their count);
``context.ranking.subset(trial)`` returns those ids, and ``context.trial_dir(trial)`` a scratch
folder for the trial's files. The proxy fine-tune objective ("eval loss of the
proxy trained on the subset") plugs in here; so does any cheap function of n for checking the
machinery. Lower is better. The loss must be a finite float; raise to fail a trial.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from instructmine.select.subsets import Ranking, Trial


class Objective(Protocol):
    """The loss of one trial (lower is better)."""

    def __call__(self, trial: Trial) -> float:
        """Evaluate ``trial`` and return its loss."""
        ...


@dataclass
class SearchContext:
    """What a factory gets: the ranking (None without ``ranked``), the pool, the output folder."""

    ranking: Ranking | None
    pool: Path | None
    out: Path

    def trial_dir(self, trial: Trial) -> Path:
        """A folder for one trial's files (created)."""
        d = self.out / "trials" / trial.key.replace(":", "_")
        d.mkdir(parents=True, exist_ok=True)
        return d


def load_factory(spec: str) -> Callable[..., Objective]:
    """Import ``module:function``; errors say what to write."""
    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"objective.factory {spec!r}: write 'package.module:function'")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"objective.factory {spec!r} cannot be loaded: {e}") from None


def build_objective(spec: dict[str, Any], context: SearchContext) -> Objective:
    """Build the objective from ``{"factory": ..., "params": {...}}``."""
    return load_factory(spec["factory"])(context, **spec.get("params", {}))
