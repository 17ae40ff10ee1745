"""``instructmine indicators``: list every indicator, its model, parameters and columns."""

from typing import Annotated

import typer

from instructmine.cli.app import app


@app.command()
def indicators(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the registered indicators: model (and whether it is the paper's or an offline
    substitute), parameters with defaults, output columns, and the default set."""
    import json

    from rich.console import Console
    from rich.table import Table

    from instructmine.indicators.catalog import catalog

    rows = catalog()
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="Indicators (default set marked *)", show_lines=True)
    for col in ("name", "columns", "model", "paper model", "params", "note"):
        table.add_column(col, overflow="fold")
    for r in rows:
        params = ", ".join(f"{k}={v!r}" for k, v in r["params"].items())
        model = r["model"] or "-"
        if r["model_status"]:
            model += f"\n({r['model_status']})"
        table.add_row(
            r["name"] + (" *" if r["default"] else ""),
            ", ".join(r["columns"]),
            model,
            r["paper_model"] or "-",
            params,
            r["note"],
        )
    Console().print(table)
