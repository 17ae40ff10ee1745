"""``instructmine select``: the top of a ranking (or a threshold) as a new pool."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


@app.command()
def select(
    ranked: Annotated[
        Path, typer.Argument(help="RANKED.parquet (or any file with id + score); the POOL for rds.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Selected pool to write.")],
    method: Annotated[
        str, typer.Option(help="rule (rank by --by), rds (RDS+ to --queries) or ifd (top IFD).")
    ] = "rule",
    queries: Annotated[
        Path | None, typer.Option(help="rds: the target's examples (a pool, e.g. EVAL.parquet).")
    ] = None,
    model: Annotated[
        str, typer.Option(help="rds: the model to be tuned (embeds pool and queries).")
    ] = "smollm2-135m-instruct",
    work_dir: Annotated[
        Path | None,
        typer.Option(help="rds: ranking folder (OUT.work/); embeddings: $INSTRUCTMINE_CACHE/rds."),
    ] = None,
    top: Annotated[int | None, typer.Option("--top", help="Take N records.")] = None,
    frac: Annotated[float | None, typer.Option("--frac", help="Take this share.")] = None,
    by: Annotated[str, typer.Option(help="Score column to rank by.")] = "predicted_log_loss",
    descending: Annotated[bool, typer.Option(help="Higher score first (e.g. ifd).")] = False,
    below: Annotated[float | None, typer.Option(help="Keep scores <= this.")] = None,
    above: Annotated[float | None, typer.Option(help="Keep scores >= this.")] = None,
    quota: Annotated[
        list[str] | None, typer.Option(help="COLUMN=VALUE:LIMIT, e.g. source=alpaca:100.")
    ] = None,
    diverse: Annotated[
        float | None, typer.Option(help="Skip records with cosine >= this to a chosen one.")
    ] = None,
    pool: Annotated[Path | None, typer.Option(help="Pool to take records from.")] = None,
    scores: Annotated[
        Path | None, typer.Option(help="Score folder: the --by column, embeddings.")
    ] = None,
    clusters: Annotated[
        Path | None, typer.Option(help="dedup's OUT.clusters.jsonl: a cluster counts once.")
    ] = None,
    embeddings: Annotated[str, typer.Option(help="Indicator whose embeddings to use.")] = "knn_6",
    backend: Annotated[str, typer.Option(help="Diversity search: numpy or faiss.")] = "numpy",
    overwrite: bool = typer.Option(False, help="Replace an OUT that instructmine did not write."),
) -> None:
    """Select records by a score; writes OUT and the manifest OUT.select.json."""
    from rich.console import Console

    from instructmine.cli.output import fail
    from instructmine.io import PoolError
    from instructmine.select.config import Quota, RdsSettings, SelectConfig
    from instructmine.select.run import manifest_path, run_select

    try:
        if method not in ("rule", "rds", "ifd"):
            raise ValueError(f"--method {method!r}: use rule, rds or ifd")
        cfg = SelectConfig(
            method=method,
            rds=RdsSettings(model=model) if method == "rds" else None,
            by=by,
            order="descending" if descending else "ascending",
            top=top,
            frac=frac,
            below=below,
            above=above,
            quotas=[Quota.parse(q) for q in quota or []],
            diverse=diverse,
            embeddings_indicator=embeddings,
            backend=backend,
        )
    except ValueError as e:  # option values (pydantic's ValidationError is a ValueError)
        raise fail(e, 2) from None
    try:
        s = run_select(
            ranked,
            out,
            cfg,
            pool=pool,
            scores=scores,
            clusters=clusters,
            queries=queries,
            work_dir=work_dir,
            overwrite=overwrite,
        )
    except (ValueError, PoolError, FileNotFoundError) as e:
        raise fail(e) from None
    skipped = ", ".join(f"{k} {v}" for k, v in s.skipped.items() if v) or "none"
    Console().print(
        f"selected {s.selected} of {s.ranked} ranked records (method {s.method}) by {s.rule['by']} "
        f"({s.rule['order']}); score reached {s.threshold_reached}; skipped: {skipped}"
        f"{'; unchanged, not re-run' if s.skipped_stage else ''}\n"
        f"pool: {s.out}\nmanifest: {manifest_path(s.out)}",
        highlight=False,
    )
