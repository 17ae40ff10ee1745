"""``instructmine compare``: held-out sub-datasets ranked by the fitted rule, the paper's rules,
each single indicator and at random; Spearman with bootstrap CIs and plain verdicts."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


@app.command()
def compare(
    experiments: Annotated[Path, typer.Argument(help="Experiments table (JSON Lines).")],
    rule: Annotated[
        str | None,
        typer.Option(help="RULE.json or built-in name; omitted: fit one on a split here."),
    ] = None,
    fit_fraction: Annotated[
        float, typer.Option(help="Share of sub-datasets to fit on (the rest held out).")
    ] = 0.5,
    holdout: Annotated[
        list[str] | None, typer.Option(help="A held-out subset_id (repeat); else a seeded split.")
    ] = None,
    split_seed: Annotated[int, typer.Option(help="Seed of the fit/held-out split.")] = 0,
    select: Annotated[str, typer.Option(help="Regressor selection of the fit.")] = "bic",
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples of held-out subsets.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap and random orders.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write a markdown report fragment.")
    ] = None,
) -> None:
    """Which ranks held-out sub-datasets best: the fitted rule, a paper rule, one indicator?"""
    import json

    from pydantic import ValidationError
    from rich.console import Console

    from instructmine.rule.compare import CompareConfig, compare_table
    from instructmine.rule.compare_report import comparison_table, verdict_lines, write_markdown
    from instructmine.rule.fit import FitConfig

    try:
        cfg = CompareConfig(
            rule=rule,
            fit_fraction=fit_fraction,
            holdout=holdout or None,
            split_seed=split_seed,
            n_boot=n_boot,
            seed=seed,
            fit=FitConfig(select=select, n_boot=0),
        )
        result = compare_table(experiments, cfg)
        if out is not None:
            write_markdown(result, out)
    except (ValidationError, ValueError, OSError) as e:
        raise typer.BadParameter(str(e)) from None
    console = Console()
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
        return
    console.print(comparison_table(result))
    for line in verdict_lines(result):
        console.print(line, highlight=False)
    if out is not None:
        console.print(f"wrote {out}")
