"""The demo's selection step: the top of the scored demo pool by a rule against as many at random.

The rule is the built-in ``smollm2-proxy`` (``data/rules/smollm2-proxy.json``): fitted by
InstructMine's proxy experiments (frozen-trunk proxy fine-tunes of SmolLM2-135M-Instruct, an offline
substitute for the paper's LLaMA setting), on indicators the demo computes offline. The paper's
own rules need the ``reward`` score, which has no offline model. The demo scores with the
parameters the rule was fitted with (:meth:`Rule.score_params`), so ranking never mixes scales;
``rank_pool`` reports any parameter that differs all the same. Both subsets are fine-tuned with
the demo's training settings and evaluated on the same eval set; one seed each, so the printed
gap is a demo number, not evidence (``instructmine select-compare`` runs the seeds and the CI).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_RULE = "smollm2-proxy"


@dataclass
class ArmResult:
    """One fine-tuned subset."""

    name: str
    n: int
    trained: int
    eval_before: float
    eval_after: float
    run_dir: str


def selection_step(
    out: Path,
    demo_pool: Path,
    scores: Path,
    n: int,
    config: Any,
    console: Any,
    rule: str = DEMO_RULE,
    seed: int = 0,
) -> list[ArmResult]:
    """Rank ``scores`` by ``rule``; the top ``n`` of ``demo_pool`` and ``n`` at random, each
    fine-tuned with ``config``. Writes ``ranked_rule.parquet``, ``select_rule.parquet``,
    ``select_random.parquet``, ``run_rule/`` and ``run_random/`` under ``out``."""
    import numpy as np

    from instructmine.io.pool import pool_ids, write_subset
    from instructmine.rule.apply import mismatch_warnings
    from instructmine.rule.rank import rank_pool
    from instructmine.select.config import SelectConfig
    from instructmine.select.run import run_select
    from instructmine.train import train

    ranked = rank_pool(scores, rule, out / "ranked_rule.parquet")
    for line in mismatch_warnings(ranked.rule, ranked.param_mismatches):
        console.print(line, style="yellow", highlight=False)
    top = run_select(
        ranked.out, out / "select_rule.parquet", SelectConfig(method="rule", top=n), pool=demo_pool
    )
    n = top.selected  # records the rule cannot score (a null indicator) are not selected
    ids = np.sort(pool_ids(demo_pool).to_numpy(zero_copy_only=False))
    picked = np.random.default_rng(seed).permutation(ids)[:n].tolist()
    write_subset(demo_pool, picked, out / "select_random.parquet")
    arms = []
    for name, pool, run_dir in (
        (f"top by rule {ranked.rule}", top.out, out / "run_rule"),
        ("random", out / "select_random.parquet", out / "run_random"),
    ):
        run = train(pool, run_dir, config, overwrite=True, console=console)
        arms.append(
            ArmResult(
                name, n, run.n_records, run.eval_loss_before, run.eval_loss_after, str(run_dir)
            )
        )
    return arms


def rule_note(rule: str) -> str:
    """One line on where ``rule`` comes from and what it is, for the demo's output."""
    from instructmine.rule.report import rule_source
    from instructmine.rule.rules import load_rule

    r = load_rule(rule)
    return f"Rule {r.name}: {rule_source(r)}. {r.description}"


def render_arms(
    arms: list[ArmResult],
    model: str,
    data: str,
    eval_name: str,
    console: Any,
    rule: str = DEMO_RULE,
) -> None:
    """The two eval losses side by side, with the model, data and rule named."""
    from rich.table import Table

    table = Table(title=f"selection: {model} fine-tuned on {arms[0].n} records of {data}")
    for col in (
        "subset",
        "selected",
        "trained on",
        "eval loss before",
        "eval loss after",
        "change",
    ):
        table.add_column(col, justify="right")
    for a in arms:
        table.add_row(
            a.name,
            str(a.n),
            str(a.trained),
            f"{a.eval_before:.4f}",
            f"{a.eval_after:.4f}",
            f"{a.eval_after - a.eval_before:+.4f}",
        )
    console.print(table)
    gap = arms[1].eval_after - arms[0].eval_after
    console.print(
        f"eval set: {eval_name}. Top by the rule minus random: {-gap:+.4f} eval loss (one seed "
        "each: a demo number, not evidence; `instructmine select-compare` gives seeds and a CI). "
        f"{rule_note(rule)} 'trained on' leaves out records with no answer token within "
        "max_length.",
        highlight=False,
    )
