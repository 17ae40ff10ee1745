"""Ridge regression (scikit-learn RidgeCV) for a collinear design, in the OLS fit's shape."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from instructmine.rule.regression import OLSFit


def fit_ridge(
    X: np.ndarray, y: np.ndarray, names: list[str], ols: OLSFit, n_boot: int, seed: int
) -> OLSFit:
    """Ridge on the OLS fit's standardised regressors; alpha by leave-one-out CV.

    Standard errors and p-values have no plain meaning for ridge and are left NaN; the
    bootstrap CIs (alpha held fixed) are kept. R², AIC and BIC are recomputed for the ridge fit.
    """
    from sklearn.linear_model import Ridge, RidgeCV

    Z = ols.scaling.apply(X)
    model = RidgeCV(alphas=np.logspace(-3, 3, 25)).fit(Z, y)
    alpha = float(model.alpha_)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        draws.append(Ridge(alpha=alpha).fit(Z[idx], y[idx]).coef_)
    lo = np.percentile(draws, 2.5, axis=0) if draws else np.full(len(names), np.nan)
    hi = np.percentile(draws, 97.5, axis=0) if draws else np.full(len(names), np.nan)
    resid = y - model.predict(Z)
    n, k = len(y), len(names)
    rss = float(resid @ resid)
    tss = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - rss / tss if tss > 0 else float("nan")
    llf = -n / 2 * (np.log(2 * np.pi * rss / n) + 1)
    terms = [
        replace(
            t,
            coef=float(model.coef_[j]),
            se=float("nan"),
            pvalue=float("nan"),
            ci_low=float("nan"),
            ci_high=float("nan"),
            boot_low=float(lo[j]),
            boot_high=float(hi[j]),
        )
        for j, t in enumerate(ols.terms)
    ]
    return replace(
        ols,
        intercept=float(model.intercept_),
        intercept_se=float("nan"),
        terms=terms,
        r2=r2,
        adj_r2=1 - (1 - r2) * (n - 1) / (n - k - 1),
        aic=float(-2 * llf + 2 * (k + 1)),
        bic=float(-2 * llf + np.log(n) * (k + 1)),
        method="ridge",
        alpha=alpha,
    )
