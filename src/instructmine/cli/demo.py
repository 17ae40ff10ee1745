"""``instructmine demo``: the offline end-to-end demo on the bundled sample data."""

from pathlib import Path
from typing import Annotated

from instructmine.cli.app import app
from instructmine.cli.options import out_option


@app.command()
def demo(
    out: Annotated[Path, out_option("Folder for the demo's outputs.")] = Path("demo_out"),
) -> None:
    """Run the offline demo recipe on the bundled sample data, end to end."""
    from instructmine.demo import run_demo

    run_demo(out)
