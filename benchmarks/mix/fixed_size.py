"""Fixed-size contrasts for the mixture paper's findings (docs/mixtures.md, "The real run").

In the grid, adding a component also adds its records (AC trains on 576, A on 288), so "code
helps alignment" there confounds the type with the amount of training. The C:A ratio sweep
(docs/mix/ratio_sweep.yaml) trains on 288 records like the grid's single types, with the same
fine-tune and the same eval items, so C:A = r against A (and against C) at 288 records asks the
question at a fixed size. Prints a markdown table: each contrast, per skill measure, as
difference ± SE with the two-sided Welch p (instructmine.mix.summary.welch).

    python benchmarks/mix/fixed_size.py [GRID_RESULTS] [SWEEP_RESULTS]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from instructmine.mix.summary import ALPHA, skill_stats, welch

MEASURES = {  # skill measure -> (result key, sign: +1 when higher is better)
    "chat: self-instruct NLL": ("loss/self_instruct", -1),
    "chat: MT-Bench NLL": ("loss/mt_bench", -1),
    "code: HumanEval sol. NLL": ("loss/humaneval_solutions", -1),
    "code: MBPP sol. NLL": ("loss/mbpp_solutions", -1),
}
CONTRASTS = [
    ("C:A=0.5", "A"),
    ("C:A=1.5", "A"),
    ("C:A=3", "A"),
    ("C:A=0.5", "C"),
    ("C:A=1.5", "C"),
    ("C:A=3", "C"),
]


def main(grid: Path, sweep: Path) -> str:
    rows = [json.loads(line) for p in (grid, sweep) for line in p.read_text().splitlines()]
    keys = [k for k, _ in MEASURES.values()]
    stats = skill_stats(rows, keys)
    lines = [
        f"Fixed size (288 records): rows of {grid} and {sweep}; a − b in the measure's "
        "better direction (positive = a better), ± SE, Welch p, n seeds a/b.",
        "",
        "| a − b | " + " | ".join(MEASURES) + " |",
        "|---" * (len(MEASURES) + 1) + "|",
    ]
    for a, b in CONTRASTS:
        if a not in stats or b not in stats:
            continue
        cells = []
        for key, sign in MEASURES.values():
            sa, sb = stats[a][key], stats[b][key]
            se, p = welch(sa, sb)
            d = sign * (sa.mean - sb.mean)
            tag = "" if p is None or p >= ALPHA else " *"
            err = "n/a" if se is None else f"{se:.4f}"
            pv = "n/a" if p is None else f"{p:.3f}"
            cells.append(f"{d:+.4f} ± {err} (p {pv}, n {sa.n}/{sb.n}){tag}")
        lines.append(f"| {a} − {b} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"* p < {ALPHA}")
    return "\n".join(lines)


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
    args = [Path(a) for a in sys.argv[1:]] or [
        root / "mix-paper" / "results.jsonl",
        root / "mix-ratio" / "results.jsonl",
    ]
    print(main(*args))
