"""The optimiser's proposal against the grid's own mixtures (docs/mixtures.md, "The real run").

Reads a results table and its proposal (``RESULTS.proposal.json``, written by ``instructmine
mix optimise``), computes the proposal's weighted objective (``sum w_s * skill_s``) for every
row, and prints a markdown table: each mixture's objective and weighted skills (mean ± SD over
seeds), then the proposal minus each mixture with its Welch SE and p
(instructmine.mix.summary.welch).

    python benchmarks/mix/proposal_check.py [RESULTS.jsonl]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from instructmine.mix.summary import NONE, skill_stats, welch


def main(results: Path) -> str:
    proposal = json.loads(results.with_suffix(".proposal.json").read_text())
    weights, name = proposal["weights"], proposal["run"]["mixture"]
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    for r in rows:
        obj = sum(w * r["results"][s] for s, w in weights.items())
        r["results"] = {**r["results"], "objective": obj}
    keys = ["objective", *weights]
    stats = skill_stats(rows, keys)
    w = ", ".join(f"{s}={v:g}" for s, v in weights.items())
    pred = proposal["predicted"]
    lo, hi = proposal["objective_interval"]
    lines = [
        f"Objective = {w} (higher is better); rows of {results}. Predicted for {name}: "
        f"objective {proposal['objective']:.4f} (95% bootstrap {lo:.4f} to {hi:.4f}), "
        + ", ".join(f"{s} {pred[s]:.4f}" for s in weights)
        + ".",
        "",
        "| mixture | " + " | ".join(keys) + " | proposal − mixture: " + " | ".join(keys) + " |",
        "|---" * (2 * len(keys) + 1) + "|",
    ]
    for m, st in sorted(stats.items(), key=lambda kv: -kv[1]["objective"].mean):
        cells = [f"{st[k].mean:.4f} ± {st[k].sd:.4f} ({st[k].n})" for k in keys]
        diffs = []
        for k in keys:
            if m == name:
                diffs.append("–")
                continue
            se, p = welch(stats[name][k], st[k], fixed={1} if m == NONE else set())
            d = stats[name][k].mean - st[k].mean
            diffs.append(f"{d:+.4f}" + ("" if se is None else f" ± {se:.4f} (p {p:.3f})"))
        lines.append(f"| {m} | " + " | ".join(cells) + " | " + " | ".join(diffs) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2] / "benchmarks/results/mix-paper/results.jsonl"
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
