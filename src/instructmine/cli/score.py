"""``instructmine score``: score a pool with quality indicators (cached, resumable)."""

from enum import StrEnum
from typing import Annotated

import typer

from instructmine.cli.app import app


class RunnerChoice(StrEnum):
    """Values of ``--runner``."""

    local = "local"
    ray = "ray"


@app.command()
def score(
    pool: Annotated[
        str,
        typer.Argument(
            help="Pool Parquet file (from `instructmine ingest`): a path or a URI (s3://...)."
        ),
    ],
    out: Annotated[
        str,
        typer.Option(
            "--out",
            "-o",
            help="Folder for the score files: a path, or a URI pyarrow understands, e.g. "
            "s3://bucket/prefix or s3://bucket/prefix?endpoint_override=host:9000 (docs/ray.md).",
        ),
    ],
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
        str | None,
        typer.Option(
            "--join", help="Also write the pool with every indicator column here (a local path)."
        ),
    ] = None,
    window: Annotated[
        int, typer.Option(min=1, help="Records read and length-sorted at a time.")
    ] = 2048,
    chunk_size: Annotated[int, typer.Option(min=1, help="Records per cached part file.")] = 64,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    threads: Annotated[
        int | None,
        typer.Option(
            min=1, help="torch threads (1 is often fastest on a machine busy with other jobs)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    runner: Annotated[
        RunnerChoice,
        typer.Option(help="Where indicators run: this process, or a Ray cluster (docs/ray.md)."),
    ] = RunnerChoice.local,
    ray_address: Annotated[
        str,
        typer.Option(help="Ray cluster: 'auto' (the one this machine joined) or host:port."),
    ] = "auto",
    ray_actors: Annotated[int, typer.Option(min=1, help="Ray scoring actors.")] = 2,
    ray_cpus: Annotated[float, typer.Option(min=0, help="CPUs per Ray actor.")] = 1.0,
    ray_gpus: Annotated[
        float, typer.Option(min=0, help="GPUs per Ray actor (asked when a model is used).")
    ] = 0.0,
    ray_resource: Annotated[
        list[str] | None,
        typer.Option(help="NAME=AMOUNT custom Ray resource per actor, e.g. scorer=1 (repeatable)."),
    ] = None,
) -> None:
    """Score POOL with quality indicators into OUT (one Parquet per indicator, keyed by id).

    Finished chunks are cached under OUT/cache: re-running skips them, a killed run resumes.
    Prints which model produced each column, per-column mean/std/min/max and correlations.
    """
    from rich.console import Console

    from instructmine.cli.interrupt import on_interrupt
    from instructmine.cli.output import fail
    from instructmine.cluster import RayConnectError, RayUnavailableError
    from instructmine.indicators.registry import UnknownIndicatorError
    from instructmine.overrides import OverrideError, parse_overrides
    from instructmine.runners.local import ScoringError, cached_chunks
    from instructmine.scoring import score_pool
    from instructmine.scoring.render import render_summary
    from instructmine.storage import StorageError, open_output

    try:
        params = parse_overrides(param or [], option="--param", min_depth=2)
    except OverrideError as e:
        raise typer.BadParameter(str(e), param_hint="--param") from None

    def kept() -> str:
        n = cached_chunks(out)
        return (
            f"{n} finished chunk(s) are kept in {open_output(out) / 'cache'}; re-run the same "
            "command to resume (finished chunks are not scored again)"
        )

    with on_interrupt(kept):
        try:
            summary = score_pool(
                pool,
                out,
                indicators=indicator or None,
                params=params,
                join=join,
                window=window,
                chunk_size=chunk_size,
                progress=progress and not as_json,  # stdout carries only the JSON
                threads=threads,
                runner=runner.value,
                ray=_ray_options(
                    runner.value, ray_address, ray_actors, ray_cpus, ray_gpus, ray_resource
                ),
            )
        except (
            UnknownIndicatorError,
            ScoringError,
            ValueError,
            FileNotFoundError,
            RayUnavailableError,
            RayConnectError,
            StorageError,
        ) as e:
            raise fail(e) from None
    if as_json:
        import json

        typer.echo(json.dumps(summary.to_dict(), default=str))
        return
    render_summary(summary, Console())


def _ray_options(runner, address, actors, cpus, gpus, resources):
    if runner != "ray":
        return None
    from instructmine.runners.ray_runner import RayScoreOptions

    custom = {}
    for item in resources or []:
        name, sep, amount = item.partition("=")
        try:
            custom[name] = float(amount)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise typer.BadParameter(
                f"{item!r}: write NAME=AMOUNT, e.g. scorer=1", param_hint="--ray-resource"
            )
    return RayScoreOptions(
        address=address, actors=actors, num_cpus=cpus, num_gpus=gpus, resources=custom
    )
