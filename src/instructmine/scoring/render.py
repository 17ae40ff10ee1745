"""Terminal rendering of a scoring run: provenance, statistics and correlation tables."""

from __future__ import annotations

from typing import Any

from instructmine.scoring.run import ScoreSummary


def render_summary(summary: ScoreSummary, console: Any = None) -> None:
    """Print the provenance, statistics and correlation tables with rich."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    prov = Table(title=f"Indicators on {summary.pool} ({summary.n_records} records)")
    for col in ("indicator", "model", "substitute for", "note"):
        prov.add_column(col)
    for name, p in summary.provenance.items():
        sub = p["paper_model"] if p["substitute"] else "-"
        prov.add_row(name, p["model_name"] or "-", sub or "-", p["note"] or "")
    console.print(prov)
    stats = Table(title="Summary")
    for col in ("column", "mean", "std", "min", "max"):
        stats.add_column(col, justify="right" if col != "column" else "left")
    for c, s in summary.stats.items():
        stats.add_row(c, f"{s.mean:.4g}", f"{s.std:.4g}", f"{s.min:.4g}", f"{s.max:.4g}")
    console.print(stats)
    cols = list(summary.correlation)
    if cols:
        corr = Table(title="Pearson correlation")
        corr.add_column("")
        for c in cols:
            corr.add_column(c, justify="right")
        for a in cols:
            corr.add_row(a, *(f"{summary.correlation[a][b]:+.2f}" for b in cols))
        console.print(corr)
    if summary.skipped:
        console.print("[dim]unchanged since the last run (stage manifest matched): not rescored[/]")
    console.print(f"scores: {', '.join(summary.files.values())}")
    if summary.joined:
        console.print(f"pool with scores: {summary.joined}")
