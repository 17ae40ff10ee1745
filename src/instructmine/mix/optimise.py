"""Ratio optimisation (in the spirit of RegMix): per-skill regressions from mixture ratios.

Each skill is fitted from the mixture's component shares (which sum to 1): a linear model
with pairwise interactions (least squares with a small ridge), or gradient boosting
(scikit-learn). Cross-validated RMSE says how far to trust each fit. Given weights over skills,
the proposed ratio maximises the weighted sum of predicted skills over a fine simplex grid; a
bootstrap over the fit (rows resampled, models refitted, optimum searched again) gives the
uncertainty of the proposed ratio and of its predicted objective.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from instructmine.stage import StageResult

Model = Literal["linear", "gbm"]


class OptimiseError(ValueError):
    """The results cannot be fitted (too few rows, unknown skills, bad weights)."""


def parse_weights(text: str) -> dict[str, float]:
    """``nlp=1,code=1,chat=2`` -> ``{"nlp": 1.0, "code": 1.0, "chat": 2.0}``."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            out[key.strip()] = float(value)
        except ValueError:
            raise OptimiseError(f"weights: {part!r} is not SKILL=NUMBER (e.g. code=1)") from None
    if not out:
        raise OptimiseError("weights: give at least one SKILL=NUMBER")
    return out


def features(x: np.ndarray) -> np.ndarray:
    """Shares plus their pairwise products (no intercept: the shares already sum to 1)."""
    pairs = [x[:, i] * x[:, j] for i, j in itertools.combinations(range(x.shape[1]), 2)]
    return np.column_stack([x, *pairs]) if pairs else x


class _Linear:
    def __init__(self, ridge: float = 1e-6) -> None:
        self.ridge = ridge

    def fit(self, x: np.ndarray, y: np.ndarray) -> _Linear:
        f = features(x)
        a = f.T @ f + self.ridge * np.eye(f.shape[1])
        self.coef = np.linalg.solve(a, f.T @ y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return features(x) @ self.coef


def _model(kind: Model, seed: int):
    if kind == "linear":
        return _Linear()
    if kind == "gbm":
        from sklearn.ensemble import GradientBoostingRegressor

        return GradientBoostingRegressor(n_estimators=100, max_depth=2, random_state=seed)
    raise OptimiseError(f"model {kind!r}: use 'linear' or 'gbm'")


def simplex_grid(k: int, step: float = 0.02) -> np.ndarray:
    """Every point of the k-simplex on a grid of ``step`` (vertices and edges included)."""
    m = round(1 / step)
    pts = [c for c in itertools.product(range(m + 1), repeat=k - 1) if sum(c) <= m]
    return np.array([[*c, m - sum(c)] for c in pts], dtype=float) / m


def cv_rmse(x: np.ndarray, y: np.ndarray, kind: Model, folds: int = 5, seed: int = 0) -> float:
    """Cross-validated RMSE of one skill's fit (k folds, at most leave-one-out)."""
    n = len(y)
    folds = min(folds, n)
    order = np.random.default_rng(seed).permutation(n)
    errs = []
    for f in range(folds):
        test = order[f::folds]
        train = np.setdiff1d(order, test)
        pred = _model(kind, seed).fit(x[train], y[train]).predict(x[test])
        errs.append((pred - y[test]) ** 2)
    return float(np.sqrt(np.mean(np.concatenate(errs))))


@dataclass
class Proposal(StageResult):
    """The proposed ratio, its predicted objective and skills, and their uncertainty."""

    components: list[str]
    weights: dict[str, float]
    model: str
    ratio: dict[str, float]
    ratio_std: dict[str, float]
    ratio_interval: dict[str, list[float]]  # 2.5 and 97.5 percentiles over the bootstrap
    objective: float
    objective_interval: list[float]
    predicted: dict[str, float]
    cv_rmse: dict[str, float]
    rows: int
    bootstrap: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _argmax(models: dict[str, Any], weights: Mapping[str, float], grid: np.ndarray):
    score = sum(w * models[s].predict(grid) for s, w in weights.items())
    i = int(np.argmax(score))
    return grid[i], float(score[i])


def optimise(
    rows: Sequence[Mapping[str, Any]],
    weights: Mapping[str, float],
    model: Model = "linear",
    bootstrap: int = 200,
    step: float = 0.02,
    seed: int = 0,
    lower_is_better: Sequence[str] = (),
) -> Proposal:
    """Fit each weighted skill from the rows' ratios and propose the best ratio.

    ``rows`` are results-table rows (``ratios`` and ``results`` mappings); the None mixture
    (all shares 0) and earlier proposals' runs (``proposal:…``) are left out of the fit.
    Skills in ``lower_is_better`` (losses) are negated.
    """
    from instructmine.mix.proposal import PROPOSAL

    rows = [
        r
        for r in rows
        if sum(r["ratios"].values()) > 0 and not str(r.get("mixture", "")).startswith(PROPOSAL)
    ]
    if not rows:
        raise OptimiseError("no mixture rows with components to fit (only None?)")
    comps = sorted({c for r in rows for c in r["ratios"]})
    missing = [s for s in weights if not all(s in r["results"] for r in rows)]
    if missing:
        have = sorted(set.intersection(*(set(r["results"]) for r in rows)))
        raise OptimiseError(f"skills {missing} are not in every row; results have {have}")
    x = np.array([[r["ratios"].get(c, 0.0) for c in comps] for r in rows], dtype=float)
    x = x / x.sum(axis=1, keepdims=True)
    sign = {s: (-1.0 if s in lower_is_better else 1.0) for s in weights}
    ys = {s: sign[s] * np.array([float(r["results"][s]) for r in rows]) for s in weights}
    if len(rows) < features(x).shape[1] and model == "linear":
        raise OptimiseError(
            f"{len(rows)} rows cannot fit {features(x).shape[1]} coefficients; run more mixtures"
        )
    grid = simplex_grid(len(comps), step)
    fitted = {s: _model(model, seed).fit(x, y) for s, y in ys.items()}
    best, objective = _argmax(fitted, weights, grid)
    rng = np.random.default_rng(seed)
    boots, objs = [], []
    for _ in range(bootstrap):
        idx = rng.integers(0, len(rows), len(rows))
        models = {s: _model(model, seed).fit(x[idx], y[idx]) for s, y in ys.items()}
        b, o = _argmax(models, weights, grid)
        boots.append(b)
        objs.append(o)
    boots_a = np.array(boots) if boots else best[None, :]
    lo, hi = np.percentile(boots_a, [2.5, 97.5], axis=0)
    olo, ohi = np.percentile(objs, [2.5, 97.5]) if objs else (objective, objective)
    return Proposal(
        components=comps,
        weights=dict(weights),
        model=model,
        ratio={c: float(v) for c, v in zip(comps, best, strict=True)},
        ratio_std={c: float(v) for c, v in zip(comps, boots_a.std(axis=0), strict=True)},
        ratio_interval={c: [float(a), float(b)] for c, a, b in zip(comps, lo, hi, strict=True)},
        objective=objective,
        objective_interval=[float(olo), float(ohi)],
        predicted={s: float(sign[s] * m.predict(best[None, :])[0]) for s, m in fitted.items()},
        cv_rmse={s: cv_rmse(x, y, model, seed=seed) for s, y in ys.items()},
        rows=len(rows),
        bootstrap=bootstrap,
    )


def propose(
    results: Path | str,
    out: Path | str,
    weights: Mapping[str, float],
    model: Model = "linear",
    bootstrap: int = 200,
    step: float = 0.02,
    seed: int = 0,
    lower_is_better: Sequence[str] = (),
) -> Proposal:
    """The ``mix optimise`` stage: fit the results table, write the proposal JSON to ``out``.

    Skipped (the stored proposal returned) when ``OUT.optimise.json`` shows the same table and
    settings and an untouched proposal file.
    """
    from instructmine import atomic
    from instructmine.mix.grid import read_results
    from instructmine.stage import Stage, manifest_path, run_stage

    config = {
        "weights": dict(weights),
        "model": model,
        "bootstrap": bootstrap,
        "step": step,
        "seed": seed,
        "lower_is_better": sorted(lower_is_better),
    }
    stage = Stage("optimise", 1, config, {"results": Path(results)}, outputs=[Path(out)])

    def work() -> Proposal:
        rows = read_results(results)
        if not rows:
            raise OptimiseError(f"{results}: no result rows (run `instructmine mix grid --run`)")
        p = optimise(rows, weights, model, bootstrap, step, seed, lower_is_better)
        atomic.write_json(out, p.to_dict())
        return p

    return run_stage(stage, manifest_path(out, "optimise"), work, lambda d: Proposal(**d))
