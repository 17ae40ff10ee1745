"""``instructmine mix``: build mixtures, enumerate and run mixture grids, optimise ratios."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Overwrite, Sets, out_option

mix_app = typer.Typer(
    help="Instruction mixtures: build a spec, run a grid, propose the best ratio.",
    no_args_is_help=True,
)
app.add_typer(mix_app, name="mix")

Spec = Annotated[Path, typer.Argument(help="Mixture spec (YAML).")]
GridConfig = Annotated[Path, typer.Argument(help="Grid config (YAML).")]
Run = Annotated[bool, typer.Option("--run", help="Build the mixtures and run the unit of work.")]
Unit = Annotated[str, typer.Option(help="Unit of work as module:function (overrides the config).")]
Only = Annotated[list[str] | None, typer.Option(help="Run only these mixtures (repeatable).")]
Workers = Annotated[
    int | None,
    typer.Option(min=1, help="Local worker processes for the units (overrides the config)."),
]
Skills = Annotated[str, typer.Option(help="Comma-separated skills (default: the grid's named).")]
Measure = Annotated[
    list[str] | None,
    typer.Option(
        help="SKILL=RESULT_KEY: re-derive a skill from another result ('-' negates a loss),"
        " e.g. --measure nlp=-loss/arc_easy_answers; writes the report and plot to -o."
    ),
]
Results = Annotated[Path, typer.Argument(help="Results table (results.jsonl of a grid).")]
Weights = Annotated[str, typer.Option(help="Skill weights, e.g. nlp=1,code=1,chat=2.")]
Model = Annotated[str, typer.Option(help="linear (with interactions) or gbm.")]
Bootstrap = Annotated[int, typer.Option(help="Bootstrap refits for the uncertainty.")]
Step = Annotated[float, typer.Option(help="Grid step over the ratio simplex.")]
LowerIsBetter = Annotated[
    list[str] | None, typer.Option(help="Skills that are losses (repeatable).")
]
Seed = Annotated[int, typer.Option(help="Seed of the bootstrap and CV folds.")]
Plot = Annotated[bool, typer.Option(help="Also write the trade-off plot RESULTS.png.")]
Grid = Annotated[
    Path | None, typer.Option(help="With --total: the grid config whose pools to mix.")
]
Total = Annotated[
    int | None, typer.Option(help="Write the proposed mixture as a spec of TOTAL records.")
]
RunProposal = Annotated[
    bool,
    typer.Option(
        "--run",
        help="With --grid and --total: run the proposal with the grid's unit at its seeds "
        "(rows in the grid's table) and put the measured skills beside the predicted.",
    ),
]


def _show(doc: dict, lines: list[str], as_json: bool) -> None:
    from instructmine.cli.output import print_json

    print_json(doc) if as_json else typer.echo("\n".join(lines))


@mix_app.command("build")
def build(
    spec: Spec, out: Annotated[Path, out_option("Mixture pool to write.")], sets: Sets = None,
    as_json: AsJson = False, overwrite: Overwrite = False,
) -> None:  # fmt: skip
    """Sample SPEC into the pool OUT; exact ids per component go to OUT.mix.json."""
    from instructmine.mix import command

    doc = command.build(spec, out, sets, overwrite)
    _show(doc, command.build_lines(doc, out), as_json)


@mix_app.command("grid")
def grid(
    config: GridConfig, run: Run = False, unit: Unit = "", only: Only = None,
    workers: Workers = None, sets: Sets = None, as_json: AsJson = False,
) -> None:  # fmt: skip
    """List the grid's mixtures; with --run build them and fill OUT/results.jsonl (resumable)."""
    from instructmine.mix import command

    doc = command.grid(command.load_grid_config(config, sets, workers), run, unit, only)
    _show(doc, command.grid_lines(doc), as_json)


@mix_app.command("summary")
def summary(
    config: Annotated[Path, typer.Argument(help="Grid config (YAML) whose results to read.")],
    skills: Skills = "",
    measure: Measure = None,
    out: Annotated[
        Path | None, out_option("Markdown report (default OUT/results.summary.md).")
    ] = None,
    sets: Sets = None,
    as_json: AsJson = False,
    overwrite: Overwrite = False,
) -> None:
    """Each mixture's skills (mean ± SD over seeds) and the mixture paper's findings tested
    against the seed noise (Welch t, p < 0.05, else "cannot tell"); writes the plot too."""
    from instructmine.mix import command

    cfg = command.load_grid_config(config, sets)
    doc = command.summary(cfg, skills, measure, out, overwrite)
    _show(doc, command.summary_lines(doc), as_json)


@mix_app.command("optimise")
def optimise(
    results: Results,
    weights: Weights,
    model: Model = "linear",
    bootstrap: Bootstrap = 200,
    step: Step = 0.02,
    lower_is_better: LowerIsBetter = None,
    seed: Seed = 0,
    plot: Plot = True,
    grid: Grid = None,
    total: Total = None,
    out: Annotated[
        Path | None, out_option("Proposal JSON (default RESULTS.proposal.json).")
    ] = None,
    run: RunProposal = False,
    as_json: AsJson = False,
    overwrite: Overwrite = False,
) -> None:
    """Fit per-skill regressions from mixture ratios; propose the best ratio for WEIGHTS."""
    from instructmine.mix import command

    doc, rows = command.optimise(results, weights, out, overwrite, model=model, bootstrap=bootstrap,
                                 step=step, seed=seed, lower_is_better=lower_is_better)  # fmt: skip
    lines = command.optimise_lines(doc)
    lines += command.proposal_follow_up(doc, rows, grid, total, run, plot, results)
    _show(doc, lines, as_json)
