"""``instructmine select``: the top of a ranking (or a threshold) as a new pool."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Overwrite, out_option

Ranked = Annotated[
    Path, typer.Argument(help="RANKED.parquet (or any file with id + score); the POOL for rds.")
]
Out = Annotated[Path, out_option("Selected pool to write.")]
Method = Annotated[
    str, typer.Option(help="rule (by --by), rds (RDS+ to --queries), ifd, random, or others.")
]
Queries = Annotated[
    Path | None, typer.Option(help="rds: the target's examples (a pool, e.g. EVAL.parquet).")
]
Model = Annotated[str, typer.Option(help="rds: the model to be tuned (embeds pool and queries).")]
WorkDir = Annotated[
    Path | None,
    typer.Option(help="rds: ranking folder (OUT.work/); embeddings: $INSTRUCTMINE_CACHE/rds."),
]
Top = Annotated[int | None, typer.Option("--top", help="Take N records.")]
Frac = Annotated[float | None, typer.Option("--frac", help="Take this share.")]
By = Annotated[str, typer.Option(help="Score column to rank by.")]
Descending = Annotated[bool, typer.Option(help="Higher score first (e.g. ifd).")]
Below = Annotated[float | None, typer.Option(help="Keep scores <= this.")]
Above = Annotated[float | None, typer.Option(help="Keep scores >= this.")]
Quotas = Annotated[
    list[str] | None, typer.Option(help="COLUMN=VALUE:LIMIT, e.g. source=alpaca:100.")
]
Diverse = Annotated[
    float | None, typer.Option(help="Skip records with cosine >= this to a chosen one.")
]
PoolOpt = Annotated[Path | None, typer.Option(help="Pool to take records from.")]
Scores = Annotated[Path | None, typer.Option(help="Score folder: the --by column, embeddings.")]
Clusters = Annotated[
    Path | None, typer.Option(help="dedup's OUT.clusters.jsonl: a cluster counts once.")
]
Embeddings = Annotated[str, typer.Option(help="Indicator whose embeddings to use.")]
Backend = Annotated[str, typer.Option(help="Diversity search: numpy or faiss.")]


@app.command()
def select(
    ranked: Ranked,
    out: Out,
    method: Method = "rule",
    queries: Queries = None,
    model: Model = "smollm2-135m-instruct",
    work_dir: WorkDir = None,
    top: Top = None,
    frac: Frac = None,
    by: By = "predicted_log_loss",
    descending: Descending = False,
    below: Below = None,
    above: Above = None,
    quota: Quotas = None,
    diverse: Diverse = None,
    pool: PoolOpt = None,
    scores: Scores = None,
    clusters: Clusters = None,
    embeddings: Embeddings = "knn_6",
    backend: Backend = "numpy",
    as_json: AsJson = False,
    overwrite: Overwrite = False,
) -> None:
    """Select records by a score; writes OUT and the manifest OUT.select.json."""
    from instructmine.cli.output import print_json
    from instructmine.select.command import render_select, select_json, select_settings
    from instructmine.select.run import run_select

    cfg = select_settings(method, model, descending, quota, by=by, top=top, frac=frac,
                          below=below, above=above, diverse=diverse,
                          embeddings_indicator=embeddings, backend=backend)  # fmt: skip
    s = run_select(ranked, out, cfg, pool=pool, scores=scores, clusters=clusters,
                   queries=queries, work_dir=work_dir, overwrite=overwrite)  # fmt: skip
    print_json(select_json(s)) if as_json else render_select(s)
