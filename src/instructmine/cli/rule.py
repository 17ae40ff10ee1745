"""`instructmine fit`, `rank` and `rules`: fit a rule, apply it, list the built-in ones."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Overwrite, out_option

Experiments = Annotated[Path, typer.Argument(help="Experiments table (JSON Lines).")]
Select = Annotated[str, typer.Option(help="Regressor selection: bic, pvalue, cv or none.")]
Ridge = Annotated[str, typer.Option(help="Ridge: auto (when VIF flags), never, always.")]
NBoot = Annotated[int, typer.Option(help="Bootstrap resamples for the CIs.")]
Name = Annotated[str | None, typer.Option(help="Name stored in the rule.")]
Description = Annotated[
    str | None, typer.Option(help="What the rule is, stored before the fit's own line.")
]
Scores = Annotated[Path, typer.Argument(help="Score folder (scores.json) or a Parquet file.")]
RuleName = Annotated[str, typer.Option(help="RULE.json or a built-in name (see `rules`).")]


@app.command()
def fit(
    experiments: Experiments,
    out: Annotated[Path, out_option("Rule JSON to write.")],
    select: Select = "bic",
    ridge: Ridge = "auto",
    n_boot: NBoot = 500,
    name: Name = None,
    description: Description = None,
    as_json: AsJson = False,
    overwrite: Overwrite = False,
) -> None:
    """Fit log eval loss on indicator aggregates; print the regression table; write RULE.json."""
    from instructmine.cli.output import print_json
    from instructmine.config_errors import validate_options
    from instructmine.rule.command import render_fit
    from instructmine.rule.fit import FitConfig, fit_rule

    cfg = validate_options(FitConfig, select=select, ridge=ridge, n_boot=n_boot, name=name,
                           description=description)  # fmt: skip
    fitted = fit_rule(experiments, out, cfg, overwrite)
    rule, skipped = fitted.rule, fitted.skipped
    doc = {"rule": rule.model_dump(mode="json"), "out": str(out), "skipped": skipped}
    print_json(doc) if as_json else render_fit(rule, out, skipped)


@app.command()
def rank(
    scores: Scores,
    rule: RuleName,
    out: Annotated[Path, out_option("RANKED.parquet to write.")],
    as_json: AsJson = False,
    overwrite: Overwrite = False,
) -> None:
    """Predicted log eval loss per record (lower is better), ranked; streamed over any size."""
    from instructmine.cli.output import print_json
    from instructmine.rule.command import render_rank
    from instructmine.rule.rank import rank_pool

    summary = rank_pool(scores, rule, out, progress=not as_json, overwrite=overwrite)
    print_json(summary.to_dict()) if as_json else render_rank(summary, out)


@app.command()
def rules(as_json: AsJson = False) -> None:
    """List the built-in rules: quoted from the paper, or fitted here (and on what)."""
    from rich.console import Console

    from instructmine.cli.output import print_json
    from instructmine.rule.command import builtin_rules
    from instructmine.rule.report import builtin_table

    print_json(builtin_rules()) if as_json else Console().print(builtin_table())
