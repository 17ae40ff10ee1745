"""``instructmine inspect``: counts, lengths, turns and a few samples of a pool."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson

Samples = Annotated[int, typer.Option(min=0, help="How many random records to show.")]
Seed = Annotated[int, typer.Option(help="Seed of the sample draw.")]


@app.command()
def inspect(
    pool: Annotated[Path, typer.Argument(help="Pool Parquet file.")],
    samples: Samples = 3,
    seed: Seed = 0,
    as_json: AsJson = False,
) -> None:
    """Show counts per source/category, prompt/response lengths, turns and sample records."""
    from instructmine.cli.output import print_json
    from instructmine.pool_stats import pool_stats, print_stats

    stats = pool_stats(pool, samples=samples, seed=seed)
    print_json(stats.to_dict()) if as_json else print_stats(stats)
