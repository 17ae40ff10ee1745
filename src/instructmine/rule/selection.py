"""Regressor selection: backward elimination by p-value (the paper's way), by BIC, or by
grouped k-fold cross-validated R²; and the cross-validated R² itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from instructmine.rule.regression import fit_ols


@dataclass
class Selection:
    """The regressors kept, and each elimination step as (dropped, criterion after)."""

    kept: list[str]
    steps: list[tuple[str, float]] = field(default_factory=list)


def cv_r2(X: np.ndarray, y: np.ndarray, groups: list[str], folds: int = 5) -> float:
    """Out-of-fold R² of OLS, folds grouped so one sub-dataset's rows never straddle folds."""
    from sklearn.model_selection import GroupKFold

    k = min(folds, len(set(groups)))
    if k < 2:
        return float("nan")
    pred = np.empty_like(y)
    for train, test in GroupKFold(n_splits=k).split(X, y, groups):
        D = np.column_stack([np.ones(len(train)), X[train]])
        beta, *_ = np.linalg.lstsq(D, y[train], rcond=None)
        pred[test] = np.column_stack([np.ones(len(test)), X[test]]) @ beta
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - pred) ** 2).sum()) / ss_tot if ss_tot > 0 else float("nan")


def _columns(X: np.ndarray, names: list[str], kept: list[str]) -> np.ndarray:
    return X[:, [names.index(n) for n in kept]]


def _backward(
    names: list[str], score: Callable[[list[str]], float], min_terms: int = 1
) -> Selection:
    """Drop, one at a time, the regressor whose removal lowers ``score`` most, while it helps."""
    kept = list(names)
    best = score(kept)
    steps: list[tuple[str, float]] = []
    while len(kept) > min_terms:
        trials = {n: score([m for m in kept if m != n]) for n in kept}
        drop = min(trials, key=trials.get)
        if not trials[drop] < best:
            break
        best = trials[drop]
        kept.remove(drop)
        steps.append((drop, best))
    return Selection(kept=kept, steps=steps)


def by_bic(X: np.ndarray, y: np.ndarray, names: list[str]) -> Selection:
    """Backward elimination while BIC falls."""
    return _backward(names, lambda kept: fit_ols(_columns(X, names, kept), y, kept, 0).bic)


def by_cv(
    X: np.ndarray, y: np.ndarray, names: list[str], groups: list[str], folds: int = 5
) -> Selection:
    """Backward elimination while grouped cross-validated R² rises."""
    return _backward(names, lambda kept: -cv_r2(_columns(X, names, kept), y, groups, folds))


def by_pvalue(X: np.ndarray, y: np.ndarray, names: list[str], threshold: float = 0.05) -> Selection:
    """Backward elimination of the least significant regressor while its p-value > threshold."""
    kept = list(names)
    steps: list[tuple[str, float]] = []
    while len(kept) > 1:
        fit = fit_ols(_columns(X, names, kept), y, kept, 0)
        worst = max(fit.terms, key=lambda t: t.pvalue if np.isfinite(t.pvalue) else np.inf)
        if worst.pvalue <= threshold:
            break
        kept.remove(worst.name)
        steps.append((worst.name, worst.pvalue))
    return Selection(kept=kept, steps=steps)
