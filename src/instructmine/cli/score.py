"""``instructmine score``: score a pool with quality indicators (cached, resumable)."""

from enum import StrEnum
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, IndicatorSets, Progress, out_option


class RunnerChoice(StrEnum):
    """Values of ``--runner``."""

    local = "local"
    ray = "ray"


Pool = Annotated[
    str,
    typer.Argument(
        help="Pool Parquet file (from `instructmine ingest`): a path or a URI (s3://...)."
    ),
]
Out = Annotated[
    str,
    out_option(
        "Folder for the score files: a path, or a URI pyarrow understands, e.g. s3://bucket/prefix "
        "or s3://bucket/prefix?endpoint_override=host:9000 (docs/ray.md)."
    ),
]
Indicators = Annotated[
    list[str] | None,
    typer.Option(
        "--indicator",
        "-i",
        help="Indicator to run (repeatable; default: the offline default set, see "
        "`instructmine indicators`).",
    ),
]
Params = Annotated[
    list[str] | None, typer.Option("--param", "-p", hidden=True, help="Old name of --set.")
]
Join = Annotated[
    str | None,
    typer.Option(help="Also write the pool with every indicator column here (a local path)."),
]
Window = Annotated[int, typer.Option(min=1, help="Records read and length-sorted at a time.")]
Chunk = Annotated[int, typer.Option(min=1, help="Records per cached part file.")]
Threads = Annotated[
    int | None,
    typer.Option(
        min=1, help="torch threads (1 is often fastest on a machine busy with other jobs)."
    ),
]
Runner = Annotated[
    RunnerChoice,
    typer.Option(help="Where indicators run: this process, or a Ray cluster (docs/ray.md)."),
]
RayAddress = Annotated[
    str, typer.Option(help="Ray cluster: 'auto' (the one this machine joined) or host:port.")
]
RayActors = Annotated[int, typer.Option(min=1, help="Ray scoring actors.")]
RayCpus = Annotated[float, typer.Option(min=0, help="CPUs per Ray actor.")]
RayGpus = Annotated[
    float, typer.Option(min=0, help="GPUs per Ray actor (asked when a model is used).")
]
RayResource = Annotated[
    list[str] | None,
    typer.Option(help="NAME=AMOUNT custom Ray resource per actor, e.g. scorer=1 (repeatable)."),
]


@app.command()
def score(
    pool: Pool,
    out: Out,
    indicator: Indicators = None,
    sets: IndicatorSets = None,
    param: Params = None,
    join: Join = None,
    window: Window = 2048,
    chunk_size: Chunk = 64,
    progress: Progress = True,
    threads: Threads = None,
    as_json: AsJson = False,
    runner: Runner = RunnerChoice.local,
    ray_address: RayAddress = "auto",
    ray_actors: RayActors = 2,
    ray_cpus: RayCpus = 1.0,
    ray_gpus: RayGpus = 0.0,
    ray_resource: RayResource = None,
) -> None:
    """Score POOL with quality indicators into OUT (one Parquet per indicator, keyed by id).

    Finished chunks are cached under OUT/cache: re-running skips them, a killed run resumes.
    Prints which model produced each column, per-column mean/std/min/max and correlations.
    """
    from instructmine.cli.interrupt import on_interrupt
    from instructmine.cli.output import print_json
    from instructmine.scoring import command, score_pool
    from instructmine.scoring.render import render_summary

    params = command.indicator_params([*(param or []), *(sets or [])])
    ray = command.ray_options(runner, ray_address, ray_actors, ray_cpus, ray_gpus, ray_resource)
    with on_interrupt(lambda: command.kept_after_interrupt(out)):
        summary = score_pool(pool, out, indicator or None, params, join, window, chunk_size,
                             progress and not as_json, threads, runner.value, ray)  # fmt: skip
    print_json(summary.to_dict()) if as_json else render_summary(summary)
