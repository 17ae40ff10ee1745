"""The trade-off plot: each mixture's per-skill results (mean ± SD over seeds), one panel per
skill so that skills on different scales (accuracies, losses) stay readable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def tradeoff_plot(
    rows: Sequence[Mapping[str, Any]],
    out: Path | str,
    skills: Sequence[str] = (),
    caption: str = "",
    measures: Mapping[str, str] | None = None,
) -> Path:
    """Write one panel per skill (mixtures on the x axis, SD over seeds as error bars, the
    base model None as a dashed line) as a PNG. ``skills`` default to every result key;
    ``caption`` (which model, which data) goes under the title; ``measures`` (skill -> the
    result key it is, ``-`` for a negated loss) go in the panel titles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from instructmine import atomic
    from instructmine.mix.summary import NONE, skill_stats

    skills = list(skills) or sorted({s for r in rows for s in r["results"]})
    stats = skill_stats(rows, skills)
    mixtures = [m for m in stats if m != NONE]
    cols = min(3, max(len(skills), 1))
    nrows = -(-len(skills) // cols) if skills else 1
    width = max(4.0, 0.45 * len(mixtures) + 1.5)
    labels = [m.replace("proposal:", "proposal ").replace(",", " ") for m in mixtures]
    tall = 3.4 + 0.06 * max([len(t) for t in labels] + [0])  # room for long rotated labels
    fig, axes = plt.subplots(nrows, cols, figsize=(width * cols, tall * nrows), squeeze=False)
    for ax in axes.ravel()[len(skills) :]:
        ax.axis("off")
    xs = np.arange(len(mixtures))
    for ax, skill in zip(axes.ravel(), skills, strict=False):
        got = [stats[m].get(skill) for m in mixtures]
        means = [s.mean if s else np.nan for s in got]
        sds = [s.sd if s else 0.0 for s in got]
        ax.errorbar(xs, means, yerr=sds, fmt="o", capsize=3, color="tab:blue")
        base = stats.get(NONE, {}).get(skill)
        if base is not None:
            ax.axhline(base.mean, color="black", linestyle="--", linewidth=1, label="None")
            ax.legend(fontsize="x-small", loc="lower right")
        finite = [v for v in means if np.isfinite(v)]
        if finite:  # the axis spans the data, not 0: the differences are small
            lo = min([v - d for v, d in zip(means, sds, strict=True) if np.isfinite(v)])
            hi = max([v + d for v, d in zip(means, sds, strict=True) if np.isfinite(v)])
            if base is not None:
                lo, hi = min(lo, base.mean), max(hi, base.mean)
            pad = 0.15 * (hi - lo or abs(hi) or 1.0)
            ax.set_ylim(lo - pad, hi + pad)
        ax.set_xticks(xs, labels, rotation=40, ha="right", fontsize="small")
        measure = (measures or {}).get(skill)
        ax.set_title(f"{skill} = {measure}" if measure else skill, fontsize="medium")
    title = "Mixture trade-offs per skill (mean ± SD over seeds)"
    if caption:  # wrapped to the figure's width (≈ 11 characters an inch at this size)
        import textwrap

        title += "\n" + textwrap.fill(caption, width=max(60, int(11 * width * cols)))
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    out = Path(out)
    with atomic.atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return out
