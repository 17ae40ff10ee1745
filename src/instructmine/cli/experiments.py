"""``instructmine experiments run CONFIG.yaml``: proxy experiments of the InstructMining rule."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Progress, Sets, out_option

experiments_app = typer.Typer(
    help="Proxy fine-tune experiments (the InstructMining rule's data).", no_args_is_help=True
)
app.add_typer(experiments_app, name="experiments")

Config = Annotated[Path, typer.Argument(help="YAML experiments config.")]
Limit = Annotated[
    int | None, typer.Option(min=1, help="Run at most this many experiments per process.")
]
Scores = Annotated[
    list[Path] | None,
    typer.Option(help="A score folder of the same pool with more indicators (repeat)."),
]
Pool = Annotated[Path, typer.Argument(help="Candidate pool the sub-datasets are drawn from.")]
EvalPool = Annotated[Path, typer.Argument(help="Eval pool (the proxy's eval loss).")]
TrunkDir = Annotated[
    Path | None, out_option("Trunk-cache folder (default: $INSTRUCTMINE_CACHE/trunk).")
]
OldDir = Annotated[Path | None, typer.Option("--dir", hidden=True, help="Old name of --out.")]
Threads = Annotated[int | None, typer.Option(min=1, help="torch threads.")]


def _load(config: Path, sets: list[str] | None):
    from instructmine.overrides import with_overrides
    from instructmine.rule.experiments_config import load_config

    return with_overrides(load_config(config), sets)


@experiments_app.command("run")
def run(
    config: Config, sets: Sets = None, limit: Limit = None, progress: Progress = True,
    as_json: AsJson = False,
) -> None:  # fmt: skip
    """Sample sub-datasets, build the trunk cache, run every pending proxy experiment.

    Finished experiments (rows in the table) are skipped; a killed run resumes where it was.
    """
    from instructmine.cli.output import print_json
    from instructmine.rule.experiments import run_experiments, summary_dict

    summary = run_experiments(_load(config, sets), progress=progress and not as_json, limit=limit)
    print_json(summary_dict(summary))


@experiments_app.command("aggregate")
def aggregate(
    config: Annotated[Path, typer.Argument(help="YAML experiments config of the run.")],
    scores: Scores = None,
    sets: Sets = None,
    as_json: AsJson = False,
) -> None:
    """Recompute every row's `<indicator>.<agg>` columns from the run's specs, the config's
    `scores` and the extra --scores folders (prints the summary as JSON either way).

    Eval losses are kept; the table is rewritten atomically, or not at all when a sub-dataset's
    records cannot be reconstructed.
    """
    from instructmine.cli.output import print_json
    from instructmine.rule.reaggregate import reaggregate

    print_json(reaggregate(_load(config, sets), scores).to_dict())


@experiments_app.command("trunk")
def trunk(
    pool: Pool,
    eval_pool: EvalPool,
    out: TrunkDir = None,
    directory: OldDir = None,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="A proxy setting, as in the consumer: --set max_length=256"),
    ] = None,
    threads: Threads = None,
    progress: Progress = True,
    as_json: AsJson = False,
) -> None:
    """Build the proxy's trunk cache over POOL and EVAL ahead of a size search or compare.

    Workers that later ask for the same cache (same records and trunk settings) find it by its
    content key instead of building it on one thread each; prints its folder.
    """
    from instructmine.cli.output import print_json
    from instructmine.overrides import with_overrides
    from instructmine.rule.proxy_config import ProxyConfig
    from instructmine.rule.trunk_cache import cache_for_pool

    cfg = with_overrides(ProxyConfig(), sets)
    cfg = cfg.model_copy(update={"threads": threads or cfg.threads})
    cache = cache_for_pool(cfg, pool, eval_pool, out or directory, progress=progress)
    print_json({"path": str(cache.path)}) if as_json else typer.echo(str(cache.path))
