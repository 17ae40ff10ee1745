"""Which records a trial trains on: the ``Trial`` key and the ``Ranking`` it draws from.

A trial is ``(n, arm, seed)``: ``arm="top"`` means the top-n records of a ranking,
``arm="random"`` n records drawn with ``seed``, ``arm="full"`` every ranked record (the
full-pool baseline); other arms are selection methods compared by ``select-compare``. Shared by
the size search (``instructmine.search``) and ``select-compare``, so it lives here, below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instructmine.select.walk import rank_order


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


class Ranking:
    """The ranked records: top-n by the rule, or a seeded random n (nested across n)."""

    def __init__(self, ids: np.ndarray, order: np.ndarray):
        self.ids = ids
        self.order = order

    @classmethod
    def load(cls, ranked: Path, by: str, descending: bool) -> Ranking:
        """Read RANKED's ``id`` and ``by`` columns (records without a score are left out)."""
        from instructmine.select.run import load_ranking

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
