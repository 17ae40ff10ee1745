"""The size curve of a size search (docs/selection.md, "The real run"): table and plot.

Reads a search folder's ``trials.jsonl`` (``instructmine search-size``) and writes, beside it,
``size_curve.md`` (every n: the rule's top-n loss, the random baseline's mean ± SD over its
seeds, the difference top − random with a 95% interval, the verdict) and ``size_curve.png`` (n on a
log axis; top-n grid points, BlendSearch trials, random mean with min–max bars).

The top-n arm has one run per n, the random arm k ≥ 3 seeds: the interval is select-compare's
(``instructmine.select.compare_stats.diff_ci``), which treats the top-n loss as one more draw
with the random arm's spread (t with k − 1 df, SE = sd·√(1 + 1/k)). The search trains every
trial at training seed 0 (the proxy is deterministic given subset and seed), so that spread is
subset sampling alone: the interval asks whether the rule's n beat a random n at that seed.
Training-seed noise is measured apart (select-compare's seeds). A difference whose interval
excludes 0 is called, any other "cannot tell".

    python benchmarks/select/size_curve.py [SEARCH_DIR [CONFIG.yaml]]
    # default benchmarks/results/select/size docs/select/size_search.yaml

With the search's config, the table and the plot name the model (with its offline provenance),
the pool, the ranking and the eval set that produced every number.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import numpy as np

from instructmine.select.compare_stats import diff_ci
from instructmine.select.trials import TrialsTable

LEVEL = 0.95


def rows(table: TrialsTable) -> list[dict]:
    """One dict per n with the top-n trial (if any) and the random losses at that n."""
    top, rand = table.top(), table.random()
    phase = {r["n"]: r.get("phase", "-") for r in table.rows.values() if r["arm"] == "top"}
    out = []
    for n in sorted(set(top) | set(rand)):
        r = rand.get(n, [])
        row = {"n": n, "phase": phase.get(n, "-"), "top": top.get(n), "random": r}
        if r:
            row["mean"] = float(np.mean(r))
        if len(r) >= 2 and n in top:
            diff, low, high = diff_ci([top[n]], r, LEVEL)
            row |= {"sd": float(np.std(r, ddof=1)), "diff": diff, "low": low, "high": high}
        out.append(row)
    return out


def about(config: Path | None) -> tuple[str, str]:
    """Which model and data produced the losses, read from the search config: the model's
    description and a line naming it with the pool, ranking and eval set (both "" without)."""
    if config is None or not config.is_file():
        return "", ""
    from instructmine.models import describe
    from instructmine.proxy.config import ProxyConfig
    from instructmine.search.config import load_config

    cfg = load_config(config)
    fit = cfg.objective.params.get("fit_params", {})
    model = describe(ProxyConfig.model_validate(fit.get("proxy") or {}).model)
    return model, (
        f"Model: {model} (the proxy: {config}). Pool: {os.path.normpath(cfg.pool)}; "
        f"ranked by `{cfg.by}` of {os.path.normpath(cfg.ranked)}; eval: {fit.get('eval', '?')}."
    )


def markdown(folder: Path, table: list[dict], full: dict[int, float], source: str = "") -> str:
    tops = {r["n"]: r["top"] for r in table if r["top"] is not None}
    best = min(tops, key=lambda n: (tops[n], n)) if tops else None
    lines = [
        f"Size curve of `{folder}` (`python benchmarks/select/size_curve.py {folder}`).",
        "Loss: the proxy fine-tune's eval loss (lower is better). diff = top-n − random mean",
        f"(< 0: the rule's top n beat random); {LEVEL:.0%} interval: the top-n run as one more",
        "draw with the random arm's spread. Every trial trains at seed 0, so that spread is",
        "subset sampling alone (training-seed noise: select-compare's seeds).",
        *([source] if source else []),
        "",
        "| n | phase | top-n loss | random mean ± SD (seeds) | diff | interval | verdict |",
        "|---:|---|---:|---:|---:|---|---|",
    ]
    for r in table:
        top = "-" if r["top"] is None else f"{r['top']:.4f}"
        if r["random"]:
            sd = f" ± {r['sd']:.4f}" if "sd" in r else ""
            rand = f"{r['mean']:.4f}{sd} ({len(r['random'])})"
        else:
            rand = "-"
        if "diff" in r:
            gap, ci = f"{r['diff']:+.4f}", f"[{r['low']:+.4f}, {r['high']:+.4f}]"
            verdict = (
                "top-n better"
                if r["high"] < 0
                else "random better"
                if r["low"] > 0
                else "cannot tell"
            )
        else:
            gap = ci = verdict = "-"
        mark = " **best**" if r["n"] == best else ""
        lines.append(
            f"| {r['n']}{mark} | {r['phase']} | {top} | {rand} | {gap} | {ci} | {verdict} |"
        )
    if best is not None:
        lines += ["", f"Best top-n trial: n = {best}, loss {tops[best]:.4f}."]
    for n, loss in full.items():
        lines.append(f"Full pool (every ranked record, n = {n}): loss {loss:.4f}.")
    return "\n".join(lines) + "\n"


def plot(folder: Path, table: list[dict], full: dict[int, float], model: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    grid = [r for r in table if r["top"] is not None and r["phase"] == "grid"]
    other = [r for r in table if r["top"] is not None and r["phase"] != "grid"]
    ax.plot([r["n"] for r in grid], [r["top"] for r in grid], "o-", label="rule top-n (grid)")
    if other:
        ax.plot(
            [r["n"] for r in other],
            [r["top"] for r in other],
            "x",
            label="rule top-n (BlendSearch)",
        )
    rand = [r for r in table if r["random"]]
    if rand:
        mean = np.array([r["mean"] for r in rand])
        lo = mean - np.array([min(r["random"]) for r in rand])
        hi = np.array([max(r["random"]) for r in rand]) - mean
        ax.errorbar(
            [r["n"] for r in rand], mean, yerr=[lo, hi], fmt="s--", capsize=3,
            label="random n (mean, min–max over seeds)",
        )  # fmt: skip
    for n, loss in full.items():
        ax.axhline(loss, color="grey", linestyle=":", label=f"full pool (n = {n})")
    ax.set_xscale("log")
    ax.set_xlabel("n (records fine-tuned on, one epoch)")
    ax.set_ylabel("eval loss (proxy)")
    lines = [f"size curve: {folder}", *textwrap.wrap(model, 100)]  # a long model line wraps
    ax.set_title("\n".join(lines), fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = folder / "size_curve.png"
    fig.savefig(out, dpi=120)
    return out


def main(folder: Path, config: Path | None = None) -> None:
    trials = TrialsTable(folder / "trials.jsonl")
    table, full = rows(trials), trials.full()
    if not table:
        raise SystemExit(f"{folder / 'trials.jsonl'}: no finished trials yet")
    model, source = about(config)
    text = markdown(folder, table, full, source)
    meta = folder / "search.json"
    if meta.is_file():
        doc = json.loads(meta.read_text())
        text += f"\nsearch.json: best n {doc.get('best_n')}, {doc.get('stopped') or 'complete'}.\n"
    (folder / "size_curve.md").write_text(text, encoding="utf-8")
    print(text, end="")
    print(f"plot: {plot(folder, table, full, model)}")


if __name__ == "__main__":
    main(
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/results/select/size"),
        Path(sys.argv[2]) if len(sys.argv) > 2 else Path("docs/select/size_search.yaml"),
    )
