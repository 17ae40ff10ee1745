"""``instructmine export``: write a pool for LLaMA-Factory, axolotl or TRL."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Overwrite, out_option


class ExportFormat(StrEnum):
    """Values of ``--format``."""

    alpaca = "alpaca"
    sharegpt = "sharegpt"
    messages = "messages"


Format = Annotated[
    ExportFormat,
    typer.Option(
        "--format", "-f", help="alpaca (JSON array), sharegpt (JSON array) or messages (JSONL)."
    ),
]
Tags = Annotated[bool, typer.Option(help="Also write id, source and category on each record.")]


@app.command()
def export(
    pool: Annotated[Path, typer.Argument(help="Pool Parquet file.")],
    out: Annotated[Path, out_option("Output file.")],
    fmt: Format = ExportFormat.messages,
    tags: Tags = True,
    as_json: AsJson = False,
    overwrite: Overwrite = False,
) -> None:
    """Export POOL as alpaca / sharegpt JSON or messages JSONL."""
    from dataclasses import asdict

    from instructmine.cli.output import print_json
    from instructmine.io import export_pool
    from instructmine.io.command import render_export

    s = export_pool(pool, out, fmt.value, tags=tags, overwrite=overwrite)
    print_json(asdict(s)) if as_json else render_export(s)
