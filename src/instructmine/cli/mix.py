"""``instructmine mix``: build mixtures, enumerate and run mixture grids, optimise ratios."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app

mix_app = typer.Typer(
    help="Instruction mixtures: build a spec, run a grid, propose the best ratio.",
    no_args_is_help=True,
)
app.add_typer(mix_app, name="mix")


def _fail(e: Exception) -> None:
    from instructmine.cli.output import fail

    raise fail(e) from None


@mix_app.command("build")
def build(
    spec: Annotated[Path, typer.Argument(help="Mixture spec (YAML).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Mixture pool to write.")],
    overwrite: bool = typer.Option(False, help="Replace an OUT that instructmine did not write."),
) -> None:
    """Sample SPEC into the pool OUT; exact ids per component go to OUT.mix.json."""
    from instructmine.atomic import OutputPathError
    from instructmine.io import PoolError
    from instructmine.mix.build import build_mixture, manifest_path
    from instructmine.mix.spec import MixSpecError

    try:
        s = build_mixture(spec, out, overwrite=overwrite)
    except (MixSpecError, PoolError, OutputPathError) as e:
        _fail(e)
    state = "up to date" if s.up_to_date else "wrote"
    parts = ", ".join(f"{n} {k} ({s.categories[n]})" for n, k in s.counts.items())
    typer.echo(f"{state} {out}: {s.total} records: {parts}; manifest {manifest_path(out)}")
    if any(s.repeats.values()):
        typer.echo(f"repeated records: {s.repeats}")


@mix_app.command("grid")
def grid(
    config: Annotated[Path, typer.Argument(help="Grid config (YAML).")],
    run: bool = typer.Option(False, "--run", help="Build the mixtures and run the unit of work."),
    unit: str = typer.Option("", help="Unit of work as module:function (overrides the config)."),
    only: Annotated[
        list[str] | None, typer.Option(help="Run only these mixtures (repeatable).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Local worker processes for the units (overrides the config)."),
    ] = None,
) -> None:
    """List the grid's mixtures; with --run build them and fill OUT/results.jsonl (resumable)."""
    from instructmine.io import PoolError
    from instructmine.mix.grid import (
        enumerate_mixtures,
        load_grid,
        load_unit,
        results_path,
        run_grid,
    )
    from instructmine.mix.plot import tradeoff_plot
    from instructmine.mix.spec import MixSpecError

    try:
        cfg = load_grid(config)
        if workers is not None:
            cfg = cfg.model_copy(update={"workers": workers})
        mixtures = enumerate_mixtures(cfg)
        for m in mixtures:
            counts = ", ".join(f"{n}={k}" for n, k in m.counts.items()) or "base model"
            typer.echo(f"{m.name}\t{counts}")
        base = "; None (the base model) at the first seed only" if cfg.include_none else ""
        typer.echo(f"{len(mixtures)} mixtures x {len(cfg.seeds)} seeds{base}")
        if not run:
            return
        rows = run_grid(cfg, load_unit(unit) if unit else None, only or None)
    except (MixSpecError, PoolError, RuntimeError) as e:  # RuntimeError: Ray missing or failed
        _fail(e)
    typer.echo(f"{len(rows)} result rows in {results_path(cfg)}")
    if rows:
        from instructmine.mix.summary import grid_caption, named_skills, skill_keys

        png = results_path(cfg).with_suffix(".png")
        tradeoff_plot(rows, png, named_skills(cfg, rows), grid_caption(cfg), skill_keys(cfg))
        typer.echo(f"trade-off plot: {png}")


@mix_app.command("summary")
def summary(
    config: Annotated[Path, typer.Argument(help="Grid config (YAML) whose results to read.")],
    skills: str = typer.Option("", help="Comma-separated skills (default: the grid's named)."),
    measure: Annotated[
        list[str] | None,
        typer.Option(
            help="SKILL=RESULT_KEY: re-derive a skill from another result ('-' negates a loss),"
            " e.g. --measure nlp=-loss/arc_easy_answers; writes the report and plot to -o."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Markdown report (default OUT/results.summary.md)."),
    ] = None,
) -> None:
    """Each mixture's skills (mean ± SD over seeds) and the mixture paper's findings tested
    against the seed noise (Welch t, p < 0.05, else "cannot tell"); writes the plot too."""
    from instructmine import atomic
    from instructmine.mix.grid import load_grid, read_results, results_path
    from instructmine.mix.plot import tradeoff_plot
    from instructmine.mix.spec import MixSpecError
    from instructmine.mix.summary import (
        findings_markdown,
        grid_caption,
        named_skills,
        paper_findings,
        remeasure,
        skill_keys,
        skill_stats,
        stats_markdown,
    )
    from instructmine.overrides import OverrideError, parse_overrides

    try:
        cfg = load_grid(config)
        rows = read_results(results_path(cfg))
        if not rows:
            raise MixSpecError(f"{results_path(cfg)}: no result rows (run `mix grid --run`)")
        measures = {k: str(v) for k, v in parse_overrides(measure or [], "--measure").items()}
        if measures and out is None:
            raise MixSpecError(
                "--measure needs --out REPORT.md (the default report is the grid's own)"
            )
        rows = remeasure(rows, measures) if measures else rows
    except (MixSpecError, OverrideError) as e:
        _fail(e)
    except KeyError as e:
        _fail(MixSpecError(f"{results_path(cfg)}: {e.args[0]}"))
    names = [s for s in skills.split(",") if s] or list(measures) or named_skills(cfg, rows)
    stats = skill_stats(rows, names)
    categories = {n: c.category for n, c in cfg.components.items()}
    caption = grid_caption(cfg)
    if measures:
        caption += "; skills measured as " + ", ".join(f"{k} = {v}" for k, v in measures.items())
    text = "\n\n".join(
        [
            f"Produced by: {caption}; results {results_path(cfg)} ({len(rows)} rows).",
            stats_markdown(stats, names),
            findings_markdown(paper_findings(stats, categories)),
        ]
    )
    out = out or results_path(cfg).with_name("results.summary.md")
    atomic.write_text(out, text + "\n")
    typer.echo(text)
    png = out.with_suffix(".png") if measures else results_path(cfg).with_suffix(".png")
    tradeoff_plot(rows, png, names, caption, measures or skill_keys(cfg))
    typer.echo(f"summary: {out}\ntrade-off plot: {png}")


def _write_proposal_spec(grid: Path | None, ratio: dict, total: int, path: Path) -> None:
    import yaml

    from instructmine import atomic
    from instructmine.mix.grid import load_grid
    from instructmine.mix.proposal import proposal_spec
    from instructmine.mix.spec import MixSpecError

    try:
        if grid is None:
            raise MixSpecError("--total needs --grid CONFIG (the pools of the components)")
        spec = proposal_spec(load_grid(grid), ratio, total)
    except MixSpecError as e:
        _fail(e)
    atomic.write_text(path, yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False))
    typer.echo(f"proposed mixture spec: {path} (build it with `instructmine mix build`)")


def _run_proposal(grid: Path | None, total: int | None, p, out: Path) -> None:
    from instructmine import atomic
    from instructmine.io import PoolError
    from instructmine.mix.grid import load_grid
    from instructmine.mix.proposal import measured_skills, run_proposal
    from instructmine.mix.spec import MixSpecError

    try:
        if grid is None or total is None:
            raise MixSpecError("--run needs --grid CONFIG and --total N (what to build and run)")
        name, rows = run_proposal(load_grid(grid), p.ratio, total)
    except (MixSpecError, PoolError, RuntimeError) as e:
        _fail(e)
    measured = measured_skills(rows, list(p.weights))
    atomic.write_json(out, {**p.to_dict(), "run": {"mixture": name, "measured": measured}})
    typer.echo(f"ran {name} at {len(rows)} seed(s):")
    for s, m in measured.items():
        sd = f" ± {m['sd']:.4f} (SD over {m['n']} seeds)" if m["sd"] is not None else ""
        typer.echo(f"{s}: predicted {p.predicted[s]:.4f}, measured {m['mean']:.4f}{sd}")


@mix_app.command("optimise")
def optimise(
    results: Annotated[Path, typer.Argument(help="Results table (results.jsonl of a grid).")],
    weights: str = typer.Option(..., help="Skill weights, e.g. nlp=1,code=1,chat=2."),
    model: str = typer.Option("linear", help="linear (with interactions) or gbm."),
    bootstrap: int = typer.Option(200, help="Bootstrap refits for the uncertainty."),
    step: float = typer.Option(0.02, help="Grid step over the ratio simplex."),
    lower_is_better: Annotated[
        list[str] | None, typer.Option(help="Skills that are losses (repeatable).")
    ] = None,
    seed: int = typer.Option(0, help="Seed of the bootstrap and CV folds."),
    plot: bool = typer.Option(True, help="Also write the trade-off plot RESULTS.png."),
    grid: Annotated[
        Path | None, typer.Option(help="With --total: the grid config whose pools to mix.")
    ] = None,
    total: Annotated[
        int | None, typer.Option(help="Write the proposed mixture as a spec of TOTAL records.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Proposal JSON (default RESULTS.proposal.json)."),
    ] = None,
    run: Annotated[
        bool,
        typer.Option(
            "--run",
            help="With --grid and --total: run the proposal with the grid's unit at its seeds "
            "(rows in the grid's table) and put the measured skills beside the predicted.",
        ),
    ] = False,
) -> None:
    """Fit per-skill regressions from mixture ratios; propose the best ratio for WEIGHTS."""
    from instructmine import atomic
    from instructmine.mix.grid import read_results
    from instructmine.mix.optimise import OptimiseError, optimise, parse_weights
    from instructmine.mix.plot import tradeoff_plot

    rows = read_results(results)
    try:
        if not rows:
            raise OptimiseError(f"{results}: no result rows (run `instructmine mix grid --run`)")
        p = optimise(
            rows, parse_weights(weights), model, bootstrap, step, seed, lower_is_better or ()
        )
    except OptimiseError as e:
        _fail(e)
    out = out or results.with_name(results.stem + ".proposal.json")
    atomic.write_json(out, p.to_dict())
    for c in p.components:
        lo, hi = p.ratio_interval[c]
        typer.echo(f"{c}\t{p.ratio[c]:.3f}  (95% bootstrap {lo:.3f}-{hi:.3f})")
    olo, ohi = p.objective_interval
    typer.echo(f"objective {p.objective:.4f} (95% bootstrap {olo:.4f}-{ohi:.4f})")
    for s, e in p.cv_rmse.items():
        typer.echo(f"{s}: predicted {p.predicted[s]:.4f}, CV RMSE {e:.4f}")
    typer.echo(f"proposal: {out}")
    if total is not None:
        _write_proposal_spec(grid, p.ratio, total, out.with_suffix(".yaml"))
    if run:
        _run_proposal(grid, total, p, out)
    if plot:
        png = tradeoff_plot(rows, results.with_suffix(".png"), list(p.weights))
        typer.echo(f"trade-off plot: {png}")
