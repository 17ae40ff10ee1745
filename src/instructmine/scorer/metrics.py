"""Agreement of a scorer with judge labels *within instruction*, raw and with length held fixed.

For each instruction (``group``) the answers of the evaluated models are compared:

- ``spearman``: Spearman correlation of score and label across the answers, averaged over
  instructions;
- ``spearman_len``: the same with answer length held fixed: the partial Spearman correlation of
  score and label given log answer length (ranks, first-order partial), averaged;
- ``pair_acc``: among answer pairs whose labels differ by more than ``margin``, the share the
  score orders like the judge;
- ``pair_acc_len``: the same over *length-matched* pairs only (lengths within ``len_ratio`` of
  each other), where length cannot decide.

Confidence intervals: percentile bootstrap over instructions (``n_boot`` resamples).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

METRICS = ("spearman", "spearman_len", "pair_acc", "pair_acc_len")


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else np.nan


def _per_group(y, s, logl, margin, len_ratio) -> tuple[float, float, int, int, int, int]:
    ry, rs, rl = rankdata(y), rankdata(s), rankdata(logl)
    rho = _corr(rs, ry)
    r_sl, r_yl = _corr(rs, rl), _corr(ry, rl)
    den = np.sqrt((1 - r_sl**2) * (1 - r_yl**2)) if np.isfinite(r_sl + r_yl) else 0.0
    partial = (rho - r_sl * r_yl) / den if den > 1e-9 and np.isfinite(rho) else np.nan
    i, j = np.triu_indices(len(y), 1)
    dy, ds = y[i] - y[j], s[i] - s[j]
    keep = np.abs(dy) > margin
    ok = np.sign(dy) == np.sign(ds)
    matched = keep & (np.abs(logl[i] - logl[j]) < np.log(len_ratio))
    return (
        rho,
        partial,
        int((ok & keep).sum()),
        int(keep.sum()),
        int((ok & matched).sum()),
        int(matched.sum()),
    )


def group_stats(
    groups: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
    lengths: np.ndarray,
    margin: float = 0.1,
    len_ratio: float = 1.25,
) -> pd.DataFrame:
    """Per instruction: rho, partial rho, pair counts (instructions with < 3 answers dropped)."""
    df = pd.DataFrame(
        {"g": groups, "y": labels, "s": scores, "l": np.log1p(np.asarray(lengths, float))}
    )
    rows = []
    for g, part in df.groupby("g", sort=True):
        if len(part) < 3:
            continue
        rows.append(
            (
                g,
                *_per_group(
                    part.y.to_numpy(), part.s.to_numpy(), part.l.to_numpy(), margin, len_ratio
                ),
            )
        )
    return pd.DataFrame(rows, columns=["group", "rho", "partial", "ok", "n", "ok_len", "n_len"])


def _summary(st: pd.DataFrame) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.array(
            [
                np.nanmean(st["rho"]),
                np.nanmean(st["partial"]),
                st["ok"].sum() / max(st["n"].sum(), 1),
                st["ok_len"].sum() / max(st["n_len"].sum(), 1),
            ]
        )


def _with_ci(point: np.ndarray, boots: np.ndarray) -> dict:
    """``{metric: {value, ci}}`` from point estimates and bootstrap rows (95% percentile)."""
    lo, hi = np.nanpercentile(boots, [2.5, 97.5], axis=0)
    return {
        m: {
            "value": round(float(point[k]), 4),
            "ci": [round(float(lo[k]), 4), round(float(hi[k]), 4)],
        }
        for k, m in enumerate(METRICS)
    }


def agreement(
    groups: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
    lengths: np.ndarray,
    margin: float = 0.1,
    len_ratio: float = 1.25,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict:
    """The four metrics with 95% bootstrap CIs over instructions, plus counts."""
    st = group_stats(groups, labels, scores, lengths, margin, len_ratio)
    if st.empty:
        raise ValueError("no instruction has 3 or more evaluated answers: nothing to compare")
    point = _summary(st)
    rng = np.random.default_rng(seed)
    boots = np.array([_summary(st.iloc[rng.integers(0, len(st), len(st))]) for _ in range(n_boot)])
    out = _with_ci(point, boots)
    out["instructions"] = len(st)
    out["pairs"] = int(st["n"].sum())
    out["length_matched_pairs"] = int(st["n_len"].sum())
    out["margin"], out["len_ratio"] = margin, len_ratio
    return out


def paired_difference(
    groups: np.ndarray,
    labels: np.ndarray,
    scores_a: np.ndarray,
    scores_b: np.ndarray,
    lengths: np.ndarray,
    n_boot: int = 1000,
    seed: int = 0,
    **kw,
) -> dict:
    """A minus B on each metric with a paired bootstrap over instructions (same resamples)."""
    sa = group_stats(groups, labels, scores_a, lengths, **kw)
    sb = group_stats(groups, labels, scores_b, lengths, **kw)
    rng = np.random.default_rng(seed)
    diff = _summary(sa) - _summary(sb)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(sa), len(sa))
        boots.append(_summary(sa.iloc[idx]) - _summary(sb.iloc[idx]))
    return _with_ci(diff, np.array(boots))
