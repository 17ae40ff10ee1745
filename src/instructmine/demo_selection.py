"""The demo's selection step: the top of the scored demo pool against the same number at random.

Neither built-in rule (``data/rules/paper-*.json``) can rank the demo pool: both need the
``reward`` score, and no reward model ships offline. The step therefore ranks by IFD (Cherry
LLM; ``instructmine select --method ifd``), which the demo's default indicators compute, and
says so. Both subsets are fine-tuned with the demo's own training settings and evaluated on the
same eval set; one seed each, so the printed gap is a demo number, not evidence
(``instructmine select-compare`` runs the seeds and the CI).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
    out: Path, demo_pool: Path, scores: Path, n: int, config: Any, console: Any, seed: int = 0
) -> list[ArmResult]:
    """Select the top ``n`` by IFD and ``n`` at random from ``demo_pool``; fine-tune each."""
    import numpy as np

    from instructmine.io.pool import pool_ids, write_subset
    from instructmine.select.config import SelectConfig
    from instructmine.select.run import run_select
    from instructmine.train import train

    top = run_select(
        demo_pool, out / "select_ifd.parquet", SelectConfig(method="ifd", top=n), scores=scores
    )
    n = top.selected  # IFD <= 1 may leave fewer than asked
    ids = np.sort(pool_ids(demo_pool).to_numpy(zero_copy_only=False))
    picked = np.random.default_rng(seed).permutation(ids)[:n].tolist()
    write_subset(demo_pool, picked, out / "select_random.parquet")
    arms = []
    for name, pool in (("top by IFD", top.out), ("random", out / "select_random.parquet")):
        run_dir = out / ("run_ifd" if name != "random" else "run_random")
        run = train(pool, run_dir, config, overwrite=True, console=console)
        arms.append(
            ArmResult(
                name, n, run.n_records, run.eval_loss_before, run.eval_loss_after, str(run_dir)
            )
        )
    return arms


def render_arms(arms: list[ArmResult], model: str, data: str, eval_name: str, console: Any) -> None:
    """The two eval losses side by side, with the model and data named."""
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
        f"eval set: {eval_name}. Top by IFD minus random: {-gap:+.4f} eval loss (one seed each: "
        "a demo number, not evidence; `instructmine select-compare` gives seeds and a CI). "
        "Ranked by IFD because both built-in rules need the reward score, which has no offline "
        "model. 'trained on' leaves out records with no answer token within max_length.",
        highlight=False,
    )
