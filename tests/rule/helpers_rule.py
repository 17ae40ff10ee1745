"""Synthetic experiments tables drawn from known coefficients plus noise, and a small rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from instructmine.rule.rules import Rule, RuleTerm

# Raw-scale aggregates: (mean, sd) of each column across sub-datasets.
COLUMNS = {
    "reward.mean": (0.0, 1.5),
    "perplexity.median": (12.0, 3.0),
    "mtld.mean": (60.0, 10.0),
    "output_length.mean": (150.0, 40.0),
}


def draw(
    n_subsets: int,
    coefs: dict[str, float],
    intercept: float = 0.9,
    noise_sd: float = 0.01,
    seeds: int = 2,
    seed: int = 0,
    collinear: str | None = None,
) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Rows of a table whose log eval loss = intercept + Σ coef·x + a subset effect + seed noise.

    ``collinear``: an extra column ``<name>`` = 2·reward.mean + tiny noise (redundant).
    """
    rng = np.random.default_rng(seed)
    X = {c: rng.normal(m, s, n_subsets) for c, (m, s) in COLUMNS.items()}
    if collinear:
        X[collinear] = 2 * X["reward.mean"] + rng.normal(0, 0.01, n_subsets)
    mu = np.full(n_subsets, intercept) + sum(b * X[c] for c, b in coefs.items())
    rows = []
    for i in range(n_subsets):
        for s in range(seeds):
            log_loss = mu[i] + rng.normal(0, noise_sd)
            row = {
                "experiment_id": f"e{i}-s{s}",
                "subset_id": f"sub{i}",
                "seed": s,
                "n_records": 96,
                "sources": {"alpaca": 50, "dolly": 46},
                "eval_loss": float(np.exp(log_loss)),
                "base_eval_loss": 2.665,
                "seconds": 1.0,
                "protocol": "synthetic",
            }
            row.update({c: float(v[i]) for c, v in X.items()})
            rows.append(row)
    return rows, X


def write(path: Path, rows: list[dict]) -> Path:
    """Write rows as JSON Lines."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def two_term_rule() -> Rule:
    """A rule on ``reward.mean`` (coef -0.2, mean 1, sd 2) and ``mtld.mean`` (0.1, 50, 10),
    intercept 0.5: what the ranking tests score pools with."""
    return Rule(
        name="t",
        intercept=0.5,
        terms=[
            RuleTerm(aggregate="reward.mean", coef=-0.2, mean=1.0, std=2.0),
            RuleTerm(aggregate="mtld.mean", coef=0.1, mean=50.0, std=10.0),
        ],
    )
