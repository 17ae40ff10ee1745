"""The offline demo: every stage built so far, run on the bundled sample data.

Stages read and write files under the output folder, so each one can be inspected alone:

1. ``pool.parquet``, ``eval.parquet``: the bundled sample ingested (chat, code, NLP tasks);
2. ``demo_pool.parquet``, ``scores/``, ``pool_scored.parquet``: an even spread of the pool (every
   source represented) scored with the default offline indicators, joined back on, with the
   parameters step 5's rule was fitted with (so its coefficients apply). The spread keeps the
   demo within minutes on a laptop CPU: perplexity and IFD cost about 0.4 s a record there;
   ``instructmine score pool.parquet -o scores`` scores all of it;
3. ``run/``: a LoRA fine-tune of SmolLM2-135M-Instruct on part of that spread;
4. ``eval.json``: the fine-tuned model on small slices of every evaluation suite;
5. ``ranked_rule.parquet``, ``select_rule.parquet``, ``select_random.parquet``, ``run_rule/``,
   ``run_random/``: the scored spread ranked by the built-in rule ``smollm2-proxy`` (fitted by
   InstructMine's proxy experiments with SmolLM2-135M-Instruct, an offline substitute for the
   paper's LLaMA setting; the paper's rules need ``reward``, which has no offline model), its top
   against as many records at random, each fine-tuned with step 3's settings, eval losses side by
   side; one seed each, a demo number (:mod:`instructmine.demo_selection`).

Everything runs offline with models shipped in PyPI packages (DESIGN.md §5). The numbers are
demo numbers on tiny samples, not benchmark results; every output names its model and data.
Re-running reuses finished work (scores are cached, evaluation suites resume).
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

DEMO_MODEL = "smollm2-135m-instruct"
SCORE_RECORDS = 200
TRAIN_RECORDS = 96
SELECT_RECORDS = 32  # per arm of the selection step: two fine-tunes a third the size of step 3's


def _spread(pool: Path, out: Path, n: int) -> Path:
    """Write ``n`` rows spread evenly over the pool (every source represented) to ``out``."""
    import pyarrow.parquet as pq

    table = pq.read_table(pool)
    step = max(1, table.num_rows // n)
    pq.write_table(table.take(list(range(0, table.num_rows, step))[:n]), out)
    return out


def run_demo(out: Path, console: Console | None = None) -> None:
    """Run the demo pipeline, writing every stage's output under ``out``."""
    from instructmine.demo_selection import DEMO_RULE, render_arms, selection_step
    from instructmine.evaluate import demo_config, evaluate
    from instructmine.io import (
        ingest,
        print_summary,
        sample_eval_dir,
        sample_eval_path,
        sample_sources,
    )
    from instructmine.pool_stats import pool_stats, print_stats
    from instructmine.progress import section
    from instructmine.rule.rules import load_rule
    from instructmine.scoring import score_pool
    from instructmine.scoring.render import render_summary
    from instructmine.train import TrainConfig, train

    console = console or Console()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    section(console, "[bold]1. Ingest the bundled sample (chat, code, NLP tasks)")
    pool = out / "pool.parquet"
    print_summary(ingest(sample_sources(), pool, force_category=True), console=console)
    print_stats(pool_stats(pool), console=console)
    eval_pool = out / "eval.parquet"
    print_summary(ingest([sample_eval_path()], eval_pool, source="self_instruct_eval"), console)

    section(console, f"[bold]2. Score {SCORE_RECORDS} examples with the default offline indicators")
    demo_pool = _spread(pool, out / "demo_pool.parquet", SCORE_RECORDS)
    summary = score_pool(  # the rule's parameters: its coefficients are on those scales
        demo_pool,
        out / "scores",
        params=load_rule(DEMO_RULE).score_params(),
        join=out / "pool_scored.parquet",
    )
    render_summary(summary, console=console)

    section(console, f"[bold]3. LoRA fine-tune of {DEMO_MODEL} on {TRAIN_RECORDS} examples")
    train_pool = _spread(demo_pool, out / "train_pool.parquet", TRAIN_RECORDS)
    config = TrainConfig(
        model=DEMO_MODEL,
        max_length=256,
        eval_data=eval_pool,
        eval_max_records=20,
        sft={"num_train_epochs": 1, "per_device_train_batch_size": 8, "learning_rate": 2e-4},
    )
    run = train(train_pool, out / "run", config, overwrite=True, console=console)
    console.print(
        f"trained {run.steps} steps on {run.n_records} records: loss {run.loss_curve[0]:.3f} -> "
        f"{run.final_loss:.3f}; eval loss (self-instruct sample) {run.eval_loss_before:.3f} -> "
        f"{run.eval_loss_after:.3f}; {run.tokens_per_second:.0f} tokens/s"
    )

    section(console, "[bold]4. Evaluate the fine-tuned model (NLP, code, chat, eval loss)")
    root = sample_eval_dir()  # the same self-instruct file as eval.parquet: the losses agree
    cfg = demo_config().model_copy(
        update={"data_dir": str(root), "benchmarks_dir": str(root / "benchmarks")}
    )
    results = evaluate(out / "run", out=out / "eval.json", config=cfg)
    console.print_json(data={"target": results.get("target"), "skills": results.get("skills")})
    suite = results["results"]["loss"]["self_instruct"]
    console.print(
        "eval loss of the fine-tuned model on the self-instruct sample (one reader for the file):"
        f" training {run.eval_loss_after:.4f} ({run.eval['after']['n_examples']} items), eval"
        f" suite {suite['loss']:.4f} ({suite['n_scored']} items, merged weights reloaded)"
    )

    section(
        console,
        f"[bold]5. Selection: top {SELECT_RECORDS} by rule {DEMO_RULE} vs "
        f"{SELECT_RECORDS} at random",
    )
    arms = selection_step(out, demo_pool, out / "scores", SELECT_RECORDS, config, console)
    render_arms(
        arms,
        DEMO_MODEL,
        f"the scored demo spread ({demo_pool.name}, {SCORE_RECORDS} records)",
        f"{eval_pool.name} (self-instruct sample, first {config.eval_max_records} items)",
        console,
    )

    section(
        console, f"[bold]Demo finished in {time.perf_counter() - started:.0f} s; outputs in {out}"
    )
