"""``instructmine compare``: held-out sub-datasets ranked by the fitted rule, the paper's rules,
each single indicator and at random; Spearman with bootstrap CIs and plain verdicts."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Overwrite, out_option

Experiments = Annotated[Path, typer.Argument(help="Experiments table (JSON Lines).")]
Rule = Annotated[
    str | None, typer.Option(help="RULE.json or built-in name; omitted: fit one on a split here.")
]
FitFraction = Annotated[
    float, typer.Option(help="Share of sub-datasets to fit on (the rest held out).")
]
Holdout = Annotated[
    list[str] | None, typer.Option(help="A held-out subset_id (repeat); else a seeded split.")
]
SplitSeed = Annotated[int, typer.Option(help="Seed of the fit/held-out split.")]
Select = Annotated[str, typer.Option(help="Regressor selection of the fit.")]
NBoot = Annotated[int, typer.Option(help="Bootstrap resamples of held-out subsets.")]
Seed = Annotated[int, typer.Option(help="Seed of the bootstrap and random orders.")]
Out = Annotated[Path | None, out_option("Write a markdown report fragment.")]


@app.command()
def compare(
    experiments: Experiments,
    rule: Rule = None,
    fit_fraction: FitFraction = 0.5,
    holdout: Holdout = None,
    split_seed: SplitSeed = 0,
    select: Select = "bic",
    n_boot: NBoot = 1000,
    seed: Seed = 0,
    as_json: AsJson = False,
    out: Out = None,
    overwrite: Overwrite = False,
) -> None:
    """Which ranks held-out sub-datasets best: the fitted rule, a paper rule, one indicator?"""
    from instructmine.cli.output import print_json
    from instructmine.config_errors import validate_options
    from instructmine.rule.command import render_comparison
    from instructmine.rule.compare import CompareConfig, compare_table
    from instructmine.rule.compare_report import write_markdown
    from instructmine.rule.fit import FitConfig

    fit = validate_options(FitConfig, select=select, n_boot=0)
    cfg = validate_options(CompareConfig, rule=rule, fit_fraction=fit_fraction,
                           holdout=holdout or None, split_seed=split_seed, n_boot=n_boot,
                           seed=seed, fit=fit)  # fmt: skip
    result = compare_table(experiments, cfg)
    if out is not None:
        write_markdown(result, out, overwrite)
    print_json(result.to_dict()) if as_json else render_comparison(result, out)
