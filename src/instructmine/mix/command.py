"""What the ``instructmine mix`` verbs do between parsing and printing.

Each verb's work is one function returning a JSON-ready document (its ``--json`` output) and
one function turning that document into the lines it prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instructmine.config_errors import SettingError


def load_grid_config(config: Path, sets: list[str] | None, workers: int | None = None) -> Any:
    """The grid config with ``--set`` overrides (and ``--workers``) applied."""
    from instructmine.mix.grid import load_grid
    from instructmine.overrides import with_overrides

    cfg = with_overrides(load_grid(config), sets)
    return cfg.model_copy(update={"workers": workers}) if workers is not None else cfg


def build(spec: Path, out: Path, sets: list[str] | None, overwrite: bool = False) -> dict[str, Any]:
    """``mix build``: sample the spec into ``out``; the summary and the manifest's path."""
    from instructmine.mix.build import build_mixture, manifest_path

    if sets:
        from instructmine.mix.spec import load_spec
        from instructmine.overrides import with_overrides

        spec, where = with_overrides(load_spec(spec), sets), f"{spec} with --set"
    else:
        where = str(spec)
    s = build_mixture(spec, out, where, overwrite)
    return {**s.to_dict(), "manifest": str(manifest_path(out)), "skipped": s.skipped}


def build_lines(doc: dict[str, Any], out: Path) -> list[str]:
    """What ``mix build`` prints."""
    state = "up to date" if doc["skipped"] else "wrote"
    parts = ", ".join(f"{n} {k} ({doc['categories'][n]})" for n, k in doc["counts"].items())
    lines = [f"{state} {out}: {doc['total']} records: {parts}; manifest {doc['manifest']}"]
    if any(doc["repeats"].values()):
        lines.append(f"repeated records: {doc['repeats']}")
    return lines


def grid(cfg: Any, run: bool, unit: str, only: list[str] | None) -> dict[str, Any]:
    """``mix grid``: the mixtures; with ``run``, the result rows and the trade-off plot."""
    from instructmine.mix.grid import enumerate_mixtures, grid_stage, load_unit, results_path

    mixtures = enumerate_mixtures(cfg)
    doc: dict[str, Any] = {
        "mixtures": [{"name": m.name, "counts": dict(m.counts)} for m in mixtures],
        "seeds": list(cfg.seeds),
        "include_none": cfg.include_none,
    }
    if not run:
        return doc
    result = grid_stage(cfg, load_unit(unit) if unit else None, only or None)
    rows = result.rows
    doc.update(rows=len(rows), results=str(results_path(cfg)), plot=None, skipped=result.skipped)
    if rows:
        from instructmine.mix.plot import tradeoff_plot
        from instructmine.mix.summary import grid_caption, named_skills, skill_keys

        png = results_path(cfg).with_suffix(".png")
        tradeoff_plot(rows, png, named_skills(cfg, rows), grid_caption(cfg), skill_keys(cfg))
        doc["plot"] = str(png)
    return doc


def grid_lines(doc: dict[str, Any]) -> list[str]:
    """What ``mix grid`` prints: a tab-separated line per mixture, then the totals."""
    lines = []
    for m in doc["mixtures"]:
        counts = ", ".join(f"{n}={k}" for n, k in m["counts"].items()) or "base model"
        lines.append(f"{m['name']}\t{counts}")
    base = "; None (the base model) at the first seed only" if doc["include_none"] else ""
    lines.append(f"{len(doc['mixtures'])} mixtures x {len(doc['seeds'])} seeds{base}")
    if "rows" in doc:
        lines.append(f"{doc['rows']} result rows in {doc['results']}")
    if doc.get("plot"):
        lines.append(f"trade-off plot: {doc['plot']}")
    return lines


def summary(
    cfg: Any, skills: str, measure: list[str] | None, out: Path | None, overwrite: bool = False
) -> dict[str, Any]:
    """``mix summary``: each mixture's skills and the paper's findings; writes the report and
    the plot."""
    from dataclasses import asdict

    from instructmine import atomic, ownership
    from instructmine.mix import summary as ms
    from instructmine.mix.grid import read_results, results_path
    from instructmine.mix.plot import tradeoff_plot
    from instructmine.mix.spec import MixSpecError
    from instructmine.overrides import parse_overrides

    results = results_path(cfg)
    rows = read_results(results)
    if not rows:
        raise MixSpecError(f"{results}: no result rows (run `mix grid --run`)")
    measures = {k: str(v) for k, v in parse_overrides(measure or [], "--measure").items()}
    if measures and out is None:
        raise SettingError("--measure needs --out REPORT.md (the default report is the grid's own)")
    try:
        rows = ms.remeasure(rows, measures) if measures else rows
    except KeyError as e:
        raise MixSpecError(f"{results}: {e.args[0]}") from None
    names = [s for s in skills.split(",") if s] or list(measures) or ms.named_skills(cfg, rows)
    stats = ms.skill_stats(rows, names)
    categories = {n: c.category for n, c in cfg.components.items()}
    caption = ms.grid_caption(cfg)
    if measures:
        caption += "; skills measured as " + ", ".join(f"{k} = {v}" for k, v in measures.items())
    text = "\n\n".join(
        [
            f"Produced by: {caption}; results {results} ({len(rows)} rows).",
            ms.stats_markdown(stats, names),
            ms.findings_markdown(ms.paper_findings(stats, categories)),
        ]
    )
    out = out or results.with_name("results.summary.md")
    ownership.refuse_foreign([out], None, overwrite)
    atomic.write_text(out, ownership.marked(text, "mix summary"))
    png = out.with_suffix(".png") if measures else results.with_suffix(".png")
    tradeoff_plot(rows, png, names, caption, measures or ms.skill_keys(cfg))
    stats_doc = {m: {k: asdict(v) for k, v in by.items()} for m, by in stats.items()}
    return {"report": text, "summary": str(out), "plot": str(png), "skills": names,
            "stats": stats_doc}  # fmt: skip


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """What ``mix summary`` prints: the report, then where it and the plot went."""
    return [doc["report"], f"summary: {doc['summary']}\ntrade-off plot: {doc['plot']}"]


def optimise(
    results: Path, weights: str, out: Path | None, overwrite: bool = False, **fit: Any
) -> tuple[dict, list]:
    """``mix optimise``: fit the per-skill regressions and propose the best ratio; writes the
    proposal JSON (``out``, default ``RESULTS.proposal.json``). Returns the ``--json``
    document and the result rows."""
    from instructmine.mix.grid import read_results
    from instructmine.mix.optimise import OptimiseError, parse_weights, propose
    from instructmine.ownership import refuse_foreign
    from instructmine.stage import manifest_path

    try:
        parsed = parse_weights(weights)
    except OptimiseError as e:
        raise SettingError(f"--weights {weights!r}: {e}") from None
    rows = read_results(results)
    if not rows:
        raise OptimiseError(f"{results}: no result rows (run `instructmine mix grid --run`)")
    out = out or results.with_name(results.stem + ".proposal.json")
    refuse_foreign([out], manifest_path(out, "optimise"), overwrite)
    p = propose(results, out, parsed, fit["model"], fit["bootstrap"], fit["step"],
                fit["seed"], fit["lower_is_better"] or ())  # fmt: skip
    return {"proposal": p.to_dict(), "out": str(out), "skipped": p.skipped}, rows


def optimise_lines(doc: dict[str, Any]) -> list[str]:
    """What ``mix optimise`` prints: the ratio and objective with their intervals."""
    p = doc["proposal"]
    lines = []
    for c in p["components"]:
        lo, hi = p["ratio_interval"][c]
        lines.append(f"{c}\t{p['ratio'][c]:.3f}  (95% bootstrap {lo:.3f}-{hi:.3f})")
    olo, ohi = p["objective_interval"]
    lines.append(f"objective {p['objective']:.4f} (95% bootstrap {olo:.4f}-{ohi:.4f})")
    for s, e in p["cv_rmse"].items():
        lines.append(f"{s}: predicted {p['predicted'][s]:.4f}, CV RMSE {e:.4f}")
    lines.append(f"proposal: {doc['out']}")
    return lines


def proposal_follow_up(doc: dict[str, Any], rows: list, grid: Path | None, total: int | None,
                       run: bool, plot: bool, results: Path) -> list[str]:  # fmt: skip
    """After ``mix optimise``: write the proposal as a spec (``--total``), run it (``--run``),
    draw the trade-off plot; the lines saying what was done (``doc`` gains their outputs)."""
    import yaml

    from instructmine import atomic
    from instructmine.mix.grid import load_grid
    from instructmine.mix.proposal import measured_skills, proposal_spec, run_proposal

    p, out, lines = doc["proposal"], Path(doc["out"]), []
    if total is not None:
        if grid is None:
            raise SettingError("--total needs --grid CONFIG (the pools of the components)")
        spec = proposal_spec(load_grid(grid), p["ratio"], total)
        path = out.with_suffix(".yaml")
        atomic.write_text(path, yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False))
        doc["spec"] = str(path)
        lines.append(f"proposed mixture spec: {path} (build it with `instructmine mix build`)")
    if run:
        if grid is None or total is None:
            raise SettingError("--run needs --grid CONFIG and --total N (what to build and run)")
        name, ran = run_proposal(load_grid(grid), p["ratio"], total)
        measured = measured_skills(ran, list(p["weights"]))
        doc["run"] = {"mixture": name, "measured": measured}
        atomic.write_json(out, {**p, "run": doc["run"]})
        lines.append(f"ran {name} at {len(ran)} seed(s):")
        for s, m in measured.items():
            sd = f" ± {m['sd']:.4f} (SD over {m['n']} seeds)" if m["sd"] is not None else ""
            lines.append(f"{s}: predicted {p['predicted'][s]:.4f}, measured {m['mean']:.4f}{sd}")
    if plot:
        from instructmine.mix.plot import tradeoff_plot

        png = tradeoff_plot(rows, results.with_suffix(".png"), list(p["weights"]))
        doc["plot"] = str(png)
        lines.append(f"trade-off plot: {png}")
    return lines
