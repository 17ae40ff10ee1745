"""``instructmine select-compare``: every selection method at one n, against random."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


@app.command("select-compare")
def select_compare(
    config: Annotated[Path, typer.Argument(help="Compare config YAML (docs/selection.md).")],
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override a setting, dotted keys: --set n=100 --set methods=[rule,random]",
        ),
    ] = None,
) -> None:
    """Rule, RDS+, IFD and random subsets of n, each fine-tuned; the eval-loss table."""
    from rich.console import Console

    from instructmine.io import PoolError
    from instructmine.select.compare import run_compare
    from instructmine.select.compare_config import load_compare_config
    from instructmine.select.compare_render import render_compare

    err = Console(stderr=True)

    def show(row: dict) -> None:
        err.print(
            f"{row['key']}: eval loss {row['loss']:.4f} ({row['seconds']:.1f} s)",
            highlight=False,
            emoji=False,  # a key such as rule:100:0 is not the :100: emoji
        )

    try:
        cfg = load_compare_config(config, overrides)
        result = run_compare(cfg, on_unit=show)
    except (ValueError, RuntimeError, KeyError, PoolError, FileNotFoundError) as e:
        err.print(f"[red]error:[/] {e}", highlight=False)
        raise typer.Exit(1) from None
    render_compare(result, cfg.level, Console())
