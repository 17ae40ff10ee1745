"""``instructmine search-size``: search the subset size n with the lowest eval loss."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Sets


@app.command("search-size")
def search_size(
    config: Annotated[Path, typer.Argument(help="Search config YAML (docs/selection.md).")],
    sets: Sets = None,
    as_json: AsJson = False,
) -> None:
    """Grid + BlendSearch over n with random baselines; prints the best n and the trials."""
    from instructmine.cli.output import print_json
    from instructmine.overrides import with_overrides
    from instructmine.search.config import load_config
    from instructmine.search.render import render_search, show_trial
    from instructmine.search.run import run_search

    result = run_search(with_overrides(load_config(config), sets), on_trial=show_trial)
    print_json(result.to_dict()) if as_json else render_search(result)
