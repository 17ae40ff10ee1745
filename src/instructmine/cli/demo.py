"""``instructmine demo``: the offline end-to-end demo on the bundled sample data."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo's outputs.")] = Path(
        "demo_out"
    ),
) -> None:
    """Run the offline demo recipe on the bundled sample data, end to end."""
    from instructmine.demo import run_demo

    run_demo(out)
