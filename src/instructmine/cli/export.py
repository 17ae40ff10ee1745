"""``instructmine export``: write a pool for LLaMA-Factory, axolotl or TRL."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


@app.command()
def export(
    pool: Annotated[Path, typer.Argument(help="Pool Parquet file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file.")],
    fmt: str = typer.Option(
        "messages",
        "--format",
        "-f",
        help="alpaca (JSON array), sharegpt (JSON array) or messages (JSONL).",
    ),
    tags: bool = typer.Option(True, help="Also write id, source and category on each record."),
    overwrite: bool = typer.Option(False, help="Replace an OUT that instructmine did not write."),
) -> None:
    """Export POOL as alpaca / sharegpt JSON or messages JSONL."""
    from rich.console import Console

    from instructmine.cli.output import fail
    from instructmine.io import IngestError, export_pool

    err = Console(stderr=True)
    try:
        s = export_pool(pool, out, fmt, tags=tags, overwrite=overwrite)
    except (IngestError, ValueError) as e:
        raise fail(e) from None
    Console().print(f"wrote {s.written:,} records to {s.out} ({s.format})")
    if s.skipped:
        err.print(f"[yellow]skipped {s.skipped:,} records[/] (reasons in {s.skipped_path})")
