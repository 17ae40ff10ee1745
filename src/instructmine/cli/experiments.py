"""``instructmine experiments run CONFIG.yaml``: proxy experiments of the InstructMining rule."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app

experiments_app = typer.Typer(
    help="Proxy fine-tune experiments (the InstructMining rule's data).", no_args_is_help=True
)
app.add_typer(experiments_app, name="experiments")


@experiments_app.command("run")
def run(
    config: Annotated[Path, typer.Argument(help="YAML experiments config.")],
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a setting: --set workers=2 --set proxy.steps=24"),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="Run at most this many experiments per process.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Sample sub-datasets, build the trunk cache, run every pending proxy experiment.

    Finished experiments (rows in the table) are skipped; a killed run resumes where it was.
    """
    import json

    from rich.console import Console

    from instructmine.overrides import OverrideError, parse_overrides
    from instructmine.rule.experiments import run_experiments, summary_dict
    from instructmine.rule.experiments_config import ExperimentsConfig, load_config

    try:
        cfg = load_config(config)
        if overrides:
            data = parse_overrides(overrides, base=cfg.model_dump(mode="json"))
            cfg = ExperimentsConfig.model_validate(data)
        summary = run_experiments(cfg, progress=progress, limit=limit)
    except (OverrideError, ValueError, KeyError, FileNotFoundError, RuntimeError) as e:
        from instructmine.cli.output import fail

        raise fail(e) from None  # one line; "[ray]" in a message is not markup
    Console().print_json(json.dumps(summary_dict(summary)))


@experiments_app.command("aggregate")
def aggregate(
    config: Annotated[Path, typer.Argument(help="YAML experiments config of the run.")],
    scores: Annotated[
        list[Path] | None,
        typer.Option(help="A score folder of the same pool with more indicators (repeat)."),
    ] = None,
) -> None:
    """Recompute every row's `<indicator>.<agg>` columns from the run's specs, the config's
    `scores` and the extra --scores folders.

    Eval losses are kept; the table is rewritten atomically, or not at all when a sub-dataset's
    records cannot be reconstructed.
    """
    import json

    from rich.console import Console

    from instructmine.rule.experiments_config import load_config
    from instructmine.rule.reaggregate import reaggregate

    try:
        summary = reaggregate(load_config(config), scores)
    except (ValueError, KeyError, OSError) as e:
        Console(stderr=True).print(f"[red]error:[/] {e}", highlight=False)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(summary.to_dict()))


@experiments_app.command("trunk")
def trunk(
    pool: Annotated[Path, typer.Argument(help="Candidate pool the sub-datasets are drawn from.")],
    eval_pool: Annotated[Path, typer.Argument(help="Eval pool (the proxy's eval loss).")],
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Trunk-cache folder (default: $INSTRUCTMINE_CACHE/trunk)."),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="A proxy setting, as in the consumer: --set max_length=256"),
    ] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="torch threads.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Build the proxy's trunk cache over POOL and EVAL ahead of a size search or compare.

    Workers that later ask for the same cache (same records and trunk settings) find it by its
    content key instead of building it on one thread each; prints its folder.
    """
    from instructmine.overrides import OverrideError, parse_overrides
    from instructmine.proxy.config import ProxyConfig
    from instructmine.proxy.trunk_cache import cache_for_pool

    try:
        cfg = ProxyConfig.model_validate(parse_overrides(overrides or []))
        cfg = cfg.model_copy(update={"threads": threads or cfg.threads})
        cache = cache_for_pool(cfg, pool, eval_pool, directory, progress=progress)
    except (OverrideError, ValueError, KeyError, FileNotFoundError) as e:
        from instructmine.cli.output import fail

        raise fail(e) from None
    typer.echo(str(cache.path))
