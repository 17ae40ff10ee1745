"""OLS of log eval loss on standardised aggregates, with the statistics a rule reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass
class Scaling:
    """Per-aggregate mean and standard deviation used to standardise the regressors."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray) -> Scaling:
        """The scaling of the columns of X (std 1 for a constant column)."""
        std = X.std(axis=0, ddof=0)
        return cls(mean=X.mean(axis=0), std=np.where(std > 0, std, 1.0))

    def apply(self, X: np.ndarray) -> np.ndarray:
        """X standardised."""
        return (X - self.mean) / self.std


@dataclass
class Term:
    """One regressor's estimate on the standardised scale."""

    name: str
    coef: float
    se: float
    pvalue: float
    ci_low: float
    ci_high: float
    boot_low: float
    boot_high: float
    vif: float


@dataclass
class OLSFit:
    """A fitted OLS: intercept, terms, fit statistics (standardised regressors)."""

    intercept: float
    intercept_se: float
    terms: list[Term]
    r2: float
    adj_r2: float
    aic: float
    bic: float
    n: int
    scaling: Scaling
    method: str = "ols"
    alpha: float | None = None

    @property
    def names(self) -> list[str]:
        """The regressors kept."""
        return [t.name for t in self.terms]

    @property
    def max_vif(self) -> float:
        """The largest variance inflation factor (0 with fewer than two regressors)."""
        return max((t.vif for t in self.terms), default=0.0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted log eval loss of raw-scale aggregates X (columns in ``names`` order)."""
        coef = np.array([t.coef for t in self.terms])
        return self.intercept + self.scaling.apply(X) @ coef

    def stats(self) -> dict[str, Any]:
        """The fit statistics as plain numbers."""
        return {
            "n_subsets": self.n,
            "r2": self.r2,
            "adj_r2": self.adj_r2,
            "aic": self.aic,
            "bic": self.bic,
            "method": self.method,
            "ridge_alpha": self.alpha,
        }

    def terms_dict(self) -> list[dict[str, Any]]:
        """The terms as plain dicts."""
        return [{k: float(v) if k != "name" else v for k, v in asdict(t).items()} for t in self]

    def __iter__(self):
        return iter(self.terms)


def _design(Z: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(Z)), Z])


def vifs(Z: np.ndarray) -> np.ndarray:
    """Variance inflation factor of each column of Z (inf for an exactly collinear one)."""
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    if Z.shape[1] < 2:
        return np.ones(Z.shape[1])
    D = _design(Z)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = [variance_inflation_factor(D, j + 1) for j in range(Z.shape[1])]
    return np.array([v if np.isfinite(v) else np.inf for v in out])


def bootstrap_coefs(
    Z: np.ndarray, y: np.ndarray, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile 95% CIs of the slopes from ``n_boot`` resamples of the sub-datasets."""
    rng = np.random.default_rng(seed)
    D = _design(Z)
    draws = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        beta, *_ = np.linalg.lstsq(D[idx], y[idx], rcond=None)
        draws.append(beta[1:])
    if not draws:
        nan = np.full(Z.shape[1], np.nan)
        return nan, nan
    arr = np.array(draws)
    return np.percentile(arr, 2.5, axis=0), np.percentile(arr, 97.5, axis=0)


def fit_ols(
    X: np.ndarray, y: np.ndarray, names: list[str], n_boot: int = 500, seed: int = 0
) -> OLSFit:
    """OLS of y on standardised X: coefficients, SE, p-values, R², AIC/BIC, VIF, bootstrap CIs."""
    import statsmodels.api as sm

    if len(y) <= X.shape[1] + 1:
        raise ValueError(
            f"{len(y)} sub-datasets cannot fit {X.shape[1]} regressors and an intercept: "
            "run more experiments or name fewer indicators"
        )
    scaling = Scaling.of(X)
    Z = scaling.apply(X)
    res = sm.OLS(y, _design(Z)).fit()
    ci = res.conf_int(0.05)
    lo, hi = bootstrap_coefs(Z, y, n_boot, seed)
    vif = vifs(Z)
    terms = [
        Term(
            name=n,
            coef=float(res.params[j + 1]),
            se=float(res.bse[j + 1]),
            pvalue=float(res.pvalues[j + 1]),
            ci_low=float(ci[j + 1, 0]),
            ci_high=float(ci[j + 1, 1]),
            boot_low=float(lo[j]),
            boot_high=float(hi[j]),
            vif=float(vif[j]),
        )
        for j, n in enumerate(names)
    ]
    return OLSFit(
        intercept=float(res.params[0]),
        intercept_se=float(res.bse[0]),
        terms=terms,
        r2=float(res.rsquared),
        adj_r2=float(res.rsquared_adj),
        aic=float(res.aic),
        bic=float(res.bic),
        n=len(y),
        scaling=scaling,
    )
