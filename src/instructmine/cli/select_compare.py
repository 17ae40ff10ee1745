"""``instructmine select-compare``: every selection method at one n, against random."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Sets


@app.command("select-compare")
def select_compare(
    config: Annotated[Path, typer.Argument(help="Compare config YAML (docs/selection.md).")],
    sets: Sets = None,
    as_json: AsJson = False,
) -> None:
    """Rule, RDS+, IFD and random subsets of n, each fine-tuned; the eval-loss table."""
    from instructmine.cli.output import print_json
    from instructmine.select.compare import run_compare
    from instructmine.select.compare_config import load_compare_config
    from instructmine.select.compare_render import render_compare, show_unit

    cfg = load_compare_config(config, sets)
    result = run_compare(cfg, on_unit=show_unit)
    print_json(result.to_dict()) if as_json else render_compare(result, cfg.level)
