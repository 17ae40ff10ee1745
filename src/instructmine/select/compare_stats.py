"""The numbers of a method comparison: mean ± SD per method, the gap to random with a t CI.

Difference = method mean − random mean (negative: the method's subset gave a lower eval loss).
Its CI is a t interval:

- the method run at ≥ 2 seeds: Welch's (unequal variances, Welch–Satterthwaite df);
- the method run at one seed: that single loss is treated as one draw with random's spread,
  ``se = sd_random · sqrt(1 + 1/k)`` with ``k − 1`` df (a prediction interval; it assumes the
  method's seed noise is no larger than random's, which also varies the subset).

The verdict: the lowest-mean method whose whole CI is below 0 wins; when every method's CI is
above 0, random wins; otherwise "cannot tell".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass


@dataclass
class MethodRow:
    """One method's losses and its difference from random."""

    method: str
    n: int
    runs: int
    mean: float
    sd: float | None
    diff: float | None = None
    low: float | None = None
    high: float | None = None
    call: str = ""

    def to_dict(self) -> dict:
        """JSON-ready row."""
        return asdict(self)


def _sd(x: Sequence[float]) -> float | None:
    if len(x) < 2:
        return None
    m = sum(x) / len(x)
    return math.sqrt(sum((v - m) ** 2 for v in x) / (len(x) - 1))


def diff_ci(
    method: Sequence[float], random: Sequence[float], level: float = 0.95
) -> tuple[float, float, float]:
    """``(difference, low, high)`` of mean(method) − mean(random) at confidence ``level``."""
    from scipy import stats

    if len(random) < 2:
        raise ValueError("the random baseline needs ≥ 2 seeds for a CI")
    j, k = len(method), len(random)
    mm, mr = sum(method) / j, sum(random) / k
    sr = _sd(random)
    if j >= 2:
        sm = _sd(method)
        vm, vr = sm**2 / j, sr**2 / k
        se = math.sqrt(vm + vr)
        df = (vm + vr) ** 2 / (vm**2 / (j - 1) + vr**2 / (k - 1)) if se > 0 else k - 1
    else:
        se = sr * math.sqrt(1 + 1 / k)
        df = k - 1
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    d = mm - mr
    return d, d - half, d + half


def compare_table(
    losses: Mapping[str, Sequence[float]], n: int, level: float = 0.95
) -> tuple[list[MethodRow], str]:
    """Rows (methods in the given order, random last) and the plain-words verdict."""
    if "random" not in losses:
        raise ValueError("no random losses: the comparison needs the random baseline")
    rand = list(losses["random"])
    rows: list[MethodRow] = []
    for method, xs in losses.items():
        if method == "random":
            continue
        xs = list(xs)
        d, lo, hi = diff_ci(xs, rand, level)
        call = "better" if hi < 0 else "worse" if lo > 0 else "cannot tell"
        rows.append(MethodRow(method, n, len(xs), sum(xs) / len(xs), _sd(xs), d, lo, hi, call))
    rows.append(MethodRow("random", n, len(rand), sum(rand) / len(rand), _sd(rand)))
    return rows, verdict(rows, level)


def verdict(rows: Sequence[MethodRow], level: float = 0.95) -> str:
    """One sentence: which method wins against random, or that the data cannot tell."""
    pct = f"{level:.0%}"
    methods = [r for r in rows if r.method != "random"]
    better = sorted((r for r in methods if r.call == "better"), key=lambda r: r.mean)
    if better:
        w = better[0]
        return (
            f"winner: {w.method} — eval loss {-w.diff:.4f} below random "
            f"({pct} CI of the difference {w.low:+.4f} to {w.high:+.4f})"
        )
    if methods and all(r.call == "worse" for r in methods):
        return f"winner: random — every method's eval loss is above random's ({pct} CIs above 0)"
    best = min(methods, key=lambda r: r.mean) if methods else None
    if best is None:
        return "cannot tell: only the random baseline was run"
    return (
        f"cannot tell: no method differs from random beyond the {pct} CI (lowest mean: "
        f"{best.method}, {best.diff:+.4f}, CI {best.low:+.4f} to {best.high:+.4f})"
    )
