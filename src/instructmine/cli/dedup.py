"""``instructmine dedup``: remove exact and near-duplicate records, reporting clusters."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


@app.command()
def dedup(
    pool: Annotated[Path, typer.Argument(help="Pool Parquet file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Deduplicated pool to write.")],
    method: str = typer.Option("both", help="exact, near or both."),
    threshold: float = typer.Option(0.8, help="Jaccard threshold of near duplicates."),
    num_perm: int = typer.Option(128, help="MinHash permutations."),
    ngram: int = typer.Option(5, help="Words per shingle."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    overwrite: bool = typer.Option(False, help="Replace an OUT that instructmine did not write."),
) -> None:
    """Deduplicate POOL (first record of each cluster kept); clusters go to OUT.clusters.jsonl."""
    from pydantic import ValidationError
    from rich.console import Console

    from instructmine.atomic import OutputPathError
    from instructmine.cli.output import fail
    from instructmine.dedup import DedupConfig, dedup_pool, print_dedup_summary
    from instructmine.io import IngestError, PoolError

    try:
        cfg = DedupConfig(method=method, threshold=threshold, num_perm=num_perm, ngram=ngram)
        summary = dedup_pool(pool, out, cfg, overwrite=overwrite)
    except (IngestError, PoolError, ValidationError, OutputPathError) as e:
        raise fail(e) from None
    if as_json:
        import json

        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
        return
    print_dedup_summary(summary, Console())
