"""The offline demo: every stage built so far, run on the bundled sample data.

Stages read and write files under the output folder, so each one can be inspected alone:
``pool.parquet`` (ingest), ``eval.parquet`` (the evaluation set).
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console


def run_demo(out: Path, console: Console | None = None) -> None:
    """Run the demo pipeline, writing every stage's output under ``out``."""
    from instructmine.io import ingest, print_summary, sample_eval_path, sample_sources
    from instructmine.pool_stats import pool_stats, print_stats

    console = console or Console()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    console.rule("[bold]1. Ingest the bundled sample (chat, code, NLP tasks)")
    pool = out / "pool.parquet"
    summary = ingest(sample_sources(), pool, force_category=True)
    print_summary(summary, console=console)
    print_stats(pool_stats(pool), console=console)
    eval_pool = out / "eval.parquet"
    print_summary(ingest([sample_eval_path()], eval_pool, source="self_instruct_eval"), console)

    console.rule(f"[bold]Demo finished in {time.perf_counter() - started:.0f} s; outputs in {out}")
