"""``instructmine dedup``: remove exact and near-duplicate records, reporting clusters."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Overwrite, out_option

Method = Annotated[str, typer.Option(help="exact, near or both.")]
Threshold = Annotated[float, typer.Option(help="Jaccard threshold of near duplicates.")]
NumPerm = Annotated[int, typer.Option(help="MinHash permutations.")]
Ngram = Annotated[int, typer.Option(help="Words per shingle.")]


@app.command()
def dedup(
    pool: Annotated[Path, typer.Argument(help="Pool Parquet file.")],
    out: Annotated[Path, out_option("Deduplicated pool to write.")],
    method: Method = "both",
    threshold: Threshold = 0.8,
    num_perm: NumPerm = 128,
    ngram: Ngram = 5,
    as_json: AsJson = False,
    overwrite: Overwrite = False,
) -> None:
    """Deduplicate POOL (first record of each cluster kept); clusters go to OUT.clusters.jsonl."""
    from instructmine.cli.output import print_json
    from instructmine.config_errors import validate_options
    from instructmine.dedup import DedupConfig, dedup_pool, print_dedup_summary

    cfg = validate_options(
        DedupConfig, method=method, threshold=threshold, num_perm=num_perm, ngram=ngram
    )
    summary = dedup_pool(pool, out, cfg, overwrite=overwrite)
    print_json(summary.to_dict()) if as_json else print_dedup_summary(summary)
