"""``instructmine indicators``: list every indicator, its model, parameters and columns."""

import typer  # noqa: F401  (every verb module imports typer first)

from instructmine.cli.app import app
from instructmine.cli.options import AsJson


@app.command()
def indicators(as_json: AsJson = False) -> None:
    """List the registered indicators: model (and whether it is the paper's or an offline
    substitute), parameters with defaults, output columns, and the default set."""
    from rich.console import Console

    from instructmine.cli.output import print_json
    from instructmine.indicators.catalog import catalog, catalog_table

    rows = catalog()
    print_json(rows) if as_json else Console().print(catalog_table(rows))
