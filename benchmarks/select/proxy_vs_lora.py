"""Does the proxy rank subsets as plain LoRA does? select-compare's units, both objectives.

Reads two select-compare folders run on the same subsets (same pool, ranking, n and seeds),
one with ``objective: lora`` and one with ``objective: proxy``, and writes a Markdown table
beside the proxy folder's parent (``proxy_vs_lora_<n>.md``): each unit's eval loss under
both, each method's mean and its difference to random under both (with select-compare's own
CIs from each ``compare.json``), and the Spearman correlation of the unit losses and of the
method means.

    python benchmarks/select/proxy_vs_lora.py LORA_DIR PROXY_DIR
    # e.g. benchmarks/results/select/compare_100 benchmarks/results/select/compare_100_proxy
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from instructmine.select.trials import TrialsTable


def _fmt_sd(row: dict) -> str:
    return f" ± {row['sd']:.4f}" if row.get("sd") is not None else ""


def _fmt_ci(row: dict) -> str:
    if row.get("diff") is None:
        return "–"
    return f"{row['diff']:+.4f} [{row['low']:+.4f}, {row['high']:+.4f}]"


def main(lora_dir: Path, proxy_dir: Path) -> Path:
    lora, proxy = TrialsTable(lora_dir / "results.jsonl"), TrialsTable(proxy_dir / "results.jsonl")
    keys = sorted(set(lora.rows) & set(proxy.rows))
    if not keys:
        raise SystemExit(f"no unit is in both {lora_dir} and {proxy_dir}")
    subsets_differ = [k for k in keys if lora.rows[k]["subset"] != proxy.rows[k]["subset"]]
    if subsets_differ:
        raise SystemExit(f"units {subsets_differ} were run on different subsets")
    n = lora.rows[keys[0]]["n"]
    docs = {
        name: json.loads((d / "compare.json").read_text())
        for name, d in (("lora", lora_dir), ("proxy", proxy_dir))
    }
    a = np.array([lora.rows[k]["loss"] for k in keys])
    b = np.array([proxy.rows[k]["loss"] for k in keys])
    rho_units = spearmanr(a, b).statistic
    by = {name: {r["method"]: r for r in doc["rows"]} for name, doc in docs.items()}
    methods = [m for m in by["lora"] if m in by["proxy"]]
    rho_methods = spearmanr(
        [by["lora"][m]["mean"] for m in methods], [by["proxy"][m]["mean"] for m in methods]
    ).statistic
    lines = [
        f"# Proxy vs plain LoRA on the same subsets, n = {n}",
        "",
        f"`python benchmarks/select/proxy_vs_lora.py {lora_dir} {proxy_dir}`",
        "",
        f"LoRA: {docs['lora']['model']}; proxy: {docs['proxy']['model']}; "
        f"pool {docs['lora']['pool']}; eval {docs['lora']['eval']}.",
        "",
        "| unit | LoRA eval loss | proxy eval loss |",
        "|---|---:|---:|",
        *(f"| {k} | {x:.4f} | {y:.4f} |" for k, x, y in zip(keys, a, b, strict=True)),
        "",
        f"Spearman over the {len(keys)} units: **{rho_units:+.2f}**.",
        "",
        "| method | LoRA mean ± SD | LoRA − random [95% CI] "
        "| proxy mean ± SD | proxy − random [95% CI] |",
        "|---|---:|---:|---:|---:|",
    ]
    for m in methods:
        x, y = by["lora"][m], by["proxy"][m]
        lines.append(
            f"| {m} | {x['mean']:.4f}{_fmt_sd(x)} | {_fmt_ci(x)} "
            f"| {y['mean']:.4f}{_fmt_sd(y)} | {_fmt_ci(y)} |"
        )
    lines += [
        "",
        f"Spearman over the {len(methods)} method means: **{rho_methods:+.2f}**.",
        "",
        f"Verdicts: LoRA — {docs['lora']['verdict']}; proxy — {docs['proxy']['verdict']}.",
        "",
    ]
    out = proxy_dir.parent / f"proxy_vs_lora_{n}.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


if __name__ == "__main__":
    print(main(Path(sys.argv[1]), Path(sys.argv[2])))
