"""Print a method comparison: the table (method, n, eval loss mean ± SD, gap to random, CI)."""

from __future__ import annotations

from typing import Any

from instructmine.select.compare import CompareResult


def _f(x: float | None, sign: bool = False) -> str:
    if x is None:
        return "-"
    return f"{x:+.4f}" if sign else f"{x:.4f}"


def render_compare(result: CompareResult, level: float, console: Any = None) -> None:
    """The table, the model and data named, what ran, and the verdict in plain words."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(
        title=f"select-compare: eval loss after the {result.objective} fine-tune (lower is better)"
    )
    for col in ("method", "n", "runs", "eval loss mean ± SD", "vs random", f"{level:.0%} CI", ""):
        table.add_column(col, justify="right")
    for r in result.rows:
        ci = "-" if r.low is None else f"{r.low:+.4f} to {r.high:+.4f}"
        sd = "-" if r.sd is None else f"{r.sd:.4f}"
        table.add_row(
            r.method, str(r.n), str(r.runs), f"{r.mean:.4f} ± {sd}", _f(r.diff, True), ci, r.call
        )
    console.print(table)
    console.print(
        f"model: {result.model}\npool: {result.pool}\neval: {result.eval}", highlight=False
    )
    for m, why in result.not_run.items():
        console.print(f"not run: {m}: {why}", highlight=False)
    console.print(
        f"ran {result.ran} units, reused {result.reused} from {result.results_path} "
        f"({result.seconds:.1f} s)",
        highlight=False,
    )
    console.print(result.verdict, highlight=False)


def show_unit(row: dict) -> None:
    """One finished fine-tune as a line on stderr (the comparison's running log)."""
    from rich.console import Console

    Console(stderr=True).print(
        f"{row['key']}: eval loss {row['loss']:.4f} ({row['seconds']:.1f} s)",
        highlight=False,
        emoji=False,  # a key such as rule:100:0 is not the :100: emoji
    )
