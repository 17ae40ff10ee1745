"""``instructmine decontaminate``: check a pool against eval sets, remove (or report) hits."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Overwrite, Sets, out_option

Against = Annotated[
    list[Path], typer.Option("--against", help="Eval pool file (repeatable).", show_default=False)
]
KeepHits = Annotated[bool, typer.Option("--keep-hits", help="Only report: keep hit records.")]
Embed = Annotated[bool, typer.Option("--embed", help="Also compare prompt embeddings (MiniLM).")]


@app.command()
def decontaminate(
    pool: Annotated[Path, typer.Argument(help="Pool Parquet file.")],
    against: Against,
    out: Annotated[Path, out_option("Clean pool to write (hits: OUT.hits.jsonl).")],
    keep_hits: KeepHits = False,
    embed: Embed = False,
    sets: Sets = None,
    overwrite: Overwrite = False,
    as_json: AsJson = False,
) -> None:
    """Find POOL records overlapping the eval items of every --against file (13-grams, short
    prompts whole, MinHash near duplicates, optionally embeddings) and write POOL without them."""
    from instructmine.cli.output import print_json
    from instructmine.config_errors import validate_options
    from instructmine.decontaminate import DecontaminateConfig, decontaminate_pool, print_summary
    from instructmine.overrides import with_overrides

    cfg = validate_options(DecontaminateConfig, keep_hits=keep_hits, embed=embed)
    cfg = with_overrides(cfg, sets)
    summary = decontaminate_pool(pool, against, out, cfg, overwrite=overwrite)
    print_json(summary.to_dict()) if as_json else print_summary(summary)
