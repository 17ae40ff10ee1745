"""Run an optimiser proposal as a grid mixture and put its measured skills beside the prediction.

The proposed ratio becomes exact counts of ``total`` records (largest remainder), named
``proposal:A=…,C=…`` so the same proposal is the same mixture on every run: it is built and run
by the grid's own unit at the grid's seeds, its rows go to the grid's results table, and a
re-run reuses them. :func:`instructmine.mix.optimise.optimise` leaves ``proposal:`` rows out of
its fit, so a prediction is never fitted on its own measurement.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from instructmine.mix.grid import GridConfig, Mixture, UnitInput, mixture_spec, run_grid
from instructmine.mix.spec import MixSpec, MixSpecError

PROPOSAL = "proposal:"


def proposal_counts(ratio: Mapping[str, float], total: int) -> dict[str, int]:
    """``total`` records split by ``ratio`` (largest remainder; zero shares left out)."""
    shares = {c: r for c, r in ratio.items() if r > 0}
    norm = sum(shares.values())
    if not shares or total < 1:
        raise MixSpecError("a proposal needs a positive share and a total of at least 1 record")
    exact = {c: total * r / norm for c, r in shares.items()}
    counts = {c: math.floor(v) for c, v in exact.items()}
    left = total - sum(counts.values())
    for c in sorted(exact, key=lambda c: (counts[c] - exact[c], c))[:left]:
        counts[c] += 1
    return {c: k for c, k in counts.items() if k > 0}


def proposal_name(counts: Mapping[str, int]) -> str:
    """The mixture name of a proposal: ``proposal:`` and its counts."""
    return PROPOSAL + ",".join(f"{c}={k}" for c, k in sorted(counts.items()))


def run_proposal(
    cfg: GridConfig,
    ratio: Mapping[str, float],
    total: int,
    unit: Callable[[UnitInput], Mapping[str, Any]] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Build and run the proposal at every seed of the grid (finished seeds are reused);
    returns its mixture name and its result rows."""
    mixture = proposal_mixture(cfg, ratio, total)
    only = cfg.model_copy(
        update={
            "include_none": False,
            "combinations": False,
            "sweeps": [],
            "mixtures": {mixture.name: mixture.counts},
        }
    )
    rows = run_grid(only, unit, [mixture.name])
    return mixture.name, [r for r in rows if r["mixture"] == mixture.name]


def proposal_mixture(cfg: GridConfig, ratio: Mapping[str, float], total: int) -> Mixture:
    """The proposal as a grid mixture of ``total`` records over the grid's components."""
    unknown = [c for c in ratio if c not in cfg.components]
    if unknown:
        raise MixSpecError(
            f"proposal components {unknown} are not in the grid ({', '.join(cfg.components)})"
        )
    counts = proposal_counts(ratio, total)
    return Mixture(proposal_name(counts), counts)


def proposal_spec(
    cfg: GridConfig, ratio: Mapping[str, float], total: int, seed: int = 0
) -> MixSpec:
    """A mixture spec of ``total`` records at a proposed ratio (the same exact counts
    :func:`run_proposal` runs), over the grid's pools."""
    return mixture_spec(cfg, proposal_mixture(cfg, ratio, total), seed)


def measured_skills(rows: Sequence[Mapping[str, Any]], skills: Sequence[str]) -> dict[str, dict]:
    """Each skill's mean, SD (over seeds; None with one) and count in ``rows``."""
    out: dict[str, dict] = {}
    for s in skills:
        vals = [float(r["results"][s]) for r in rows if s in r["results"]]
        if vals:
            sd = statistics.stdev(vals) if len(vals) > 1 else None
            out[s] = {"mean": statistics.fmean(vals), "sd": sd, "n": len(vals)}
    return out
