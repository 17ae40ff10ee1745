"""The objective interface of the size search, and the subsets it trains on.

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

import numpy as np


@dataclass(frozen=True)
class Trial:
    """One evaluation: ``n`` records, chosen by the rule (``top``) or at random (``seed``)."""

    n: int
    arm: str = "top"
    seed: int | None = None

    @property
    def key(self) -> str:
        """Stable name of the trial in a trials table (``top:250``, ``random:250:1``,
        ``full:9225``).

        Other arms (``select-compare``'s methods) are named like random: ``rds:250:0``.
        """
        if self.arm in ("top", "full"):
            return f"{self.arm}:{self.n}"
        return f"{self.arm}:{self.n}:{self.seed}"


class Objective(Protocol):
    """The loss of one trial (lower is better)."""

    def __call__(self, trial: Trial) -> float:
        """Evaluate ``trial`` and return its loss."""
        ...


class Ranking:
    """The ranked records: top-n by the rule, or a seeded random n (nested across n)."""

    def __init__(self, ids: np.ndarray, order: np.ndarray):
        self.ids = ids
        self.order = order

    @classmethod
    def load(cls, ranked: Path, by: str, descending: bool) -> Ranking:
        """Read RANKED's ``id`` and ``by`` columns (records without a score are left out)."""
        from instructmine.select.run import load_ranking
        from instructmine.select.walk import rank_order

        ids, values = load_ranking(Path(ranked), by, None)
        ids = ids.to_numpy(zero_copy_only=False)
        return cls(ids, rank_order(ids, values, descending))

    def subset(self, trial: Trial) -> list[str]:
        """The ids a trial trains on."""
        if trial.n > len(self.order):
            raise ValueError(f"n={trial.n} but only {len(self.order)} ranked records")
        if trial.arm == "full" and trial.n != len(self.order):
            raise ValueError(f"full-pool trial of n={trial.n}, but {len(self.order)} are ranked")
        if trial.arm in ("top", "full"):
            return self.ids[self.order[: trial.n]].tolist()
        perm = np.random.default_rng(trial.seed).permutation(np.sort(self.ids[self.order]))
        return perm[: trial.n].tolist()


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
