"""Print a size search's result: the best n and the table of trials by n."""

from __future__ import annotations

from typing import Any

from instructmine.search.run import SearchResult


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"


def render_search(result: SearchResult, console: Any = None) -> None:
    """The table by n (top-n loss, random mean ± sd over seeds, the gap) and the best n."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title="size search: trials by n (lower loss is better)")
    for col in ("n", "phase", "top-n loss", "random mean ± sd", "seeds", "random - top"):
        table.add_column(col, justify="right")
    for r in result.rows:
        rand = "-" if r.random_mean is None else f"{r.random_mean:.4f} ± {_f(r.random_sd)}"
        gap = "-" if r.loss is None or r.random_mean is None else f"{r.random_mean - r.loss:+.4f}"
        mark = " *" if r.n == result.best_n else ""
        table.add_row(f"{r.n}{mark}", r.phase, _f(r.loss), rand, str(r.random_seeds), gap)
    console.print(table)
    console.print(
        f"ran {result.ran} trials, reused {result.reused} from {result.trials_path} "
        f"({result.seconds:.1f} s){'; ' + result.stopped if result.stopped else ''}"
    )
    console.print(f"best n: {result.best_n} (loss {_f(result.best_loss)})", highlight=False)
    if result.full_n is not None:
        console.print(
            f"full pool (n = {result.full_n}): loss {_f(result.full_loss)}", highlight=False
        )


def show_trial(row: dict) -> None:
    """One finished trial as a line on stderr (the search's running log)."""
    from rich.console import Console

    seed = "" if row["seed"] is None else f" seed {row['seed']}"
    Console(stderr=True).print(
        f"{row['phase']:>6} n={row['n']:<7}{row['arm']}{seed}: loss {row['loss']:.4f} "
        f"({row['seconds']:.1f} s)",
        highlight=False,
    )
