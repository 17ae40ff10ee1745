"""``instructmine search-size``: search the subset size n with the lowest eval loss."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


@app.command("search-size")
def search_size(
    config: Annotated[Path, typer.Argument(help="Search config YAML (docs/selection.md).")],
) -> None:
    """Grid + BlendSearch over n with random baselines; prints the best n and the trials."""
    from rich.console import Console

    from instructmine.cli.output import fail
    from instructmine.search.config import load_config
    from instructmine.search.render import render_search
    from instructmine.search.run import run_search

    err = Console(stderr=True)
    try:
        cfg = load_config(config)
    except ValueError as e:
        raise fail(e) from None

    def show(row: dict) -> None:
        seed = "" if row["seed"] is None else f" seed {row['seed']}"
        err.print(
            f"{row['phase']:>6} n={row['n']:<7}{row['arm']}{seed}: loss {row['loss']:.4f} "
            f"({row['seconds']:.1f} s)",
            highlight=False,
        )

    try:
        result = run_search(cfg, on_trial=show)
    except (ValueError, RuntimeError) as e:
        raise fail(e) from None
    render_search(result, Console())
