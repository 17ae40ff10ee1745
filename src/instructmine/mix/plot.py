"""The trade-off plot: each mixture's per-skill results (mean ± std over seeds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def tradeoff_plot(
    rows: Sequence[Mapping[str, Any]], out: Path | str, skills: Sequence[str] = ()
) -> Path:
    """Write a grouped bar chart (mixtures × skills, error bars over seeds) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from instructmine import atomic

    mixtures = list(dict.fromkeys(r["mixture"] for r in rows))
    skills = list(skills) or sorted({s for r in rows for s in r["results"]})
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(mixtures)), 4))
    width = 0.8 / max(len(skills), 1)
    for j, skill in enumerate(skills):
        means, stds = [], []
        for m in mixtures:
            vals = [
                float(r["results"][skill])
                for r in rows
                if r["mixture"] == m and skill in r["results"]
            ]
            means.append(np.mean(vals) if vals else np.nan)
            stds.append(np.std(vals) if len(vals) > 1 else 0.0)
        xs = np.arange(len(mixtures)) + (j - (len(skills) - 1) / 2) * width
        ax.bar(xs, means, width, yerr=stds, capsize=2, label=skill)
    ax.set_xticks(np.arange(len(mixtures)), mixtures, rotation=30, ha="right")
    ax.set_ylabel("result (mean ± std over seeds)")
    ax.set_title("Mixture trade-offs per skill")
    ax.legend(fontsize="small")
    fig.tight_layout()
    out = Path(out)
    with atomic.atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return out
