"""``instructmine inspect``: counts, lengths, turns and a few samples of a pool."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


@app.command()
def inspect(
    pool: Annotated[Path, typer.Argument(help="Pool Parquet file.")],
    samples: int = typer.Option(3, min=0, help="How many random records to show."),
    seed: int = typer.Option(0, help="Seed of the sample draw."),
    json_out: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
) -> None:
    """Show counts per source/category, prompt/response lengths, turns and sample records."""
    import json

    from rich.console import Console

    from instructmine.cli.output import fail
    from instructmine.io import IngestError, PoolError
    from instructmine.pool_stats import pool_stats, print_stats

    try:
        stats = pool_stats(pool, samples=samples, seed=seed)
    except (IngestError, PoolError) as e:
        raise fail(e) from None
    if json_out:
        typer.echo(json.dumps(stats.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_stats(stats, Console())
