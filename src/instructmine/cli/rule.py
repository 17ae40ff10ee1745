"""`instructmine fit`, `rank` and `rules`: fit a rule, apply it, list the built-in ones."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


@app.command()
def fit(
    experiments: Annotated[Path, typer.Argument(help="Experiments table (JSON Lines).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Rule JSON to write.")],
    select: Annotated[
        str, typer.Option(help="Regressor selection: bic, pvalue, cv or none.")
    ] = "bic",
    ridge: Annotated[
        str, typer.Option(help="Ridge: auto (when VIF flags), never, always.")
    ] = "auto",
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples for the CIs.")] = 500,
    name: Annotated[str | None, typer.Option(help="Name stored in the rule.")] = None,
    description: Annotated[
        str | None, typer.Option(help="What the rule is, stored before the fit's own line.")
    ] = None,
    overwrite: bool = typer.Option(False, help="Replace an OUT that instructmine did not write."),
) -> None:
    """Fit log eval loss on indicator aggregates; print the regression table; write RULE.json."""
    from pydantic import ValidationError
    from rich.console import Console

    from instructmine.cli.output import fail
    from instructmine.rule.fit import FitConfig, fit_rule
    from instructmine.rule.report import rule_table

    try:
        cfg = FitConfig(
            select=select, ridge=ridge, n_boot=n_boot, name=name, description=description
        )
    except ValidationError as e:
        raise fail(e, 2) from None  # an option value: a usage error
    try:
        rule, skipped = fit_rule(experiments, out, cfg, overwrite)
    except (ValueError, OSError) as e:
        raise fail(e) from None
    console = Console()
    console.print(rule_table(rule))
    console.print(f"{'unchanged, kept' if skipped else 'wrote'} {out}")


@app.command()
def rank(
    scores: Annotated[Path, typer.Argument(help="Score folder (scores.json) or a Parquet file.")],
    rule: Annotated[str, typer.Option(help="RULE.json or a built-in name (see `rules`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="RANKED.parquet to write.")],
    overwrite: bool = typer.Option(False, help="Replace an OUT that instructmine did not write."),
) -> None:
    """Predicted log eval loss per record (lower is better), ranked; streamed over any size."""
    from rich.console import Console

    from instructmine.cli.output import fail
    from instructmine.rule.apply import mismatch_warnings
    from instructmine.rule.rank import rank_pool

    try:
        summary = rank_pool(scores, rule, out, progress=True, overwrite=overwrite)
    except (ValueError, OSError) as e:
        raise fail(e) from None
    state = "unchanged, kept" if summary.skipped else "wrote"
    console = Console()
    console.print(
        f"{state} {out}: {summary.records} records ranked by rule {summary.rule!r}"
        f" ({summary.unscored} without a score, ranked last)"
    )
    for line in mismatch_warnings(summary.rule, summary.param_mismatches):
        console.print(line, style="yellow", highlight=False)


@app.command()
def rules() -> None:
    """List the built-in rules: quoted from the paper, or fitted here (and on what)."""
    from rich.console import Console

    from instructmine.rule.report import builtin_table

    Console().print(builtin_table())
