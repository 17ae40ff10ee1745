"""``instructmine score``: score a pool with quality indicators (cached, resumable)."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


def _parse_params(items: list[str]) -> dict[str, dict]:
    """``-p perplexity.batch_size=4`` -> ``{"perplexity": {"batch_size": 4}}`` (JSON values)."""
    import json

    out: dict[str, dict] = {}
    for item in items:
        key, sep, value = item.partition("=")
        name, dot, param = key.partition(".")
        if not sep or not dot or not name or not param:
            raise typer.BadParameter(
                f"{item!r}: write INDICATOR.PARAM=VALUE, e.g. perplexity.batch_size=4",
                param_hint="--param",
            )
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        out.setdefault(name, {})[param] = parsed
    return out


@app.command()
def score(
    pool: Annotated[Path, typer.Argument(help="Pool Parquet file (from `instructmine ingest`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the score files.")],
    indicator: Annotated[
        list[str] | None,
        typer.Option(
            "--indicator",
            "-i",
            help="Indicator to run (repeatable; default: the offline default set, see "
            "`instructmine indicators`).",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", help="INDICATOR.PARAM=VALUE, e.g. reward.model=/path (repeatable)."
        ),
    ] = None,
    join: Annotated[
        Path | None,
        typer.Option("--join", help="Also write the pool with every indicator column here."),
    ] = None,
    window: Annotated[int, typer.Option(help="Records read and length-sorted at a time.")] = 2048,
    chunk_size: Annotated[int, typer.Option(help="Records per cached part file.")] = 64,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    threads: Annotated[
        int | None,
        typer.Option(help="torch threads (1 is often fastest on a machine busy with other jobs)."),
    ] = None,
) -> None:
    """Score POOL with quality indicators into OUT (one Parquet per indicator, keyed by id).

    Finished chunks are cached under OUT/cache: re-running skips them, a killed run resumes.
    Prints which model produced each column, per-column mean/std/min/max and correlations.
    """
    from rich.console import Console

    from instructmine.indicators.registry import UnknownIndicatorError
    from instructmine.runners.local import ScoringError
    from instructmine.scores import render_summary, score_pool

    err = Console(stderr=True)
    params = _parse_params(param or [])
    try:
        summary = score_pool(
            pool,
            out,
            indicators=indicator or None,
            params=params,
            join=join,
            window=window,
            chunk_size=chunk_size,
            progress=progress,
            threads=threads,
        )
    except (UnknownIndicatorError, ScoringError, ValueError, FileNotFoundError) as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    render_summary(summary, Console())
