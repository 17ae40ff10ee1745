"""What ``instructmine fit``, ``rank`` and ``rules`` print (tables and ``--json`` documents)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def render_fit(rule: Any, out: Path, skipped: bool) -> None:
    """The regression table and what became of ``out``."""
    from rich.console import Console

    from instructmine.rule.report import rule_table

    console = Console()
    console.print(rule_table(rule))
    console.print(f"{'unchanged, kept' if skipped else 'wrote'} {out}", highlight=False)


def render_rank(summary: Any, out: Path) -> None:
    """How many records were ranked, by which rule, and any parameter mismatches."""
    from rich.console import Console

    from instructmine.rule.apply import mismatch_warnings

    console = Console()
    state = "unchanged, kept" if summary.skipped else "wrote"
    console.print(
        f"{state} {out}: {summary.records} records ranked by rule {summary.rule!r}"
        f" ({summary.unscored} without a score, ranked last)",
        highlight=False,
    )
    for line in mismatch_warnings(summary.rule, summary.param_mismatches):
        console.print(line, style="yellow", highlight=False)


def builtin_rules() -> list[dict[str, Any]]:
    """The built-in rules as JSON-ready entries: name, terms and source."""
    from instructmine.rule.report import rule_source
    from instructmine.rule.rules import builtin_names, load_rule

    rules = []
    for name in builtin_names():
        rule = load_rule(name)
        terms = [term.aggregate for term in rule.terms]
        rules.append({"name": name, "terms": terms, "source": rule_source(rule)})
    return rules


def render_comparison(result: Any, out: Path | None) -> None:
    """The comparison table, the verdicts in plain words, and the report written."""
    from rich.console import Console

    from instructmine.rule.compare_report import comparison_table, verdict_lines

    console = Console()
    console.print(comparison_table(result))
    for line in verdict_lines(result):
        console.print(line, highlight=False)
    if out is not None:
        console.print(f"wrote {out}", highlight=False)
