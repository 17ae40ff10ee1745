"""A comparison as a readable rich table and as a markdown report fragment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instructmine.rule.compare import Comparison


def _f(v: float | None) -> str:
    return "" if v is None or v != v else f"{v:+.3f}"


def _order(m) -> tuple[bool, float]:
    return (m.kind == "random", -m.rho if m.rho == m.rho else 2.0)  # NaN rho sorts last


def _rows(c: Comparison) -> list[tuple[str, ...]]:
    rows = []
    for m in sorted(c.methods, key=_order):
        chance = "yes" if m.ci_low > 0 else ("no" if m.kind != "random" else "")
        fit_rho = "" if m.fit_rho is None else f"{m.fit_rho:.3f}"
        ci = f"[{_f(m.ci_low)}, {_f(m.ci_high)}]"
        rows.append((m.name, m.kind, m.detail, _f(m.rho), ci, fit_rho, chance))
    return rows


HEADER = ("ranking", "kind", "detail", "Spearman", "95% CI", "|ρ| on fit", "CI > 0")


def _caption(c: Comparison) -> str:
    return (
        f"{len(c.held_out_ids)} held-out sub-datasets (never fitted on), {len(c.fit_ids)} fitted "
        f"on; Spearman with the mean over seeds of log eval loss; CIs: {c.n_boot} bootstrap "
        f"resamples of the held-out sub-datasets (seed {c.seed})"
    )


def comparison_table(c: Comparison) -> Any:
    """A rich table: one row per ranking, best first, random last."""
    from rich.table import Table

    t = Table(title=f"held-out ranking of {c.table}: rule {c.rule!r}", caption=_caption(c))
    for col in HEADER:
        t.add_column(col, justify="left" if col in ("ranking", "kind", "detail") else "right")
    for row in _rows(c):
        t.add_row(*row)
    return t


def verdict_lines(c: Comparison) -> list[str]:
    """The plain-language verdicts, then what could not be evaluated."""
    lines = [v.text for v in c.verdicts]
    lines += [f"not evaluated: {name}: {why}" for name, why in c.unavailable.items()]
    return lines


def markdown(c: Comparison) -> str:
    """A markdown report fragment: the table, the verdicts, the held-out ids."""
    out = [
        f"### Held-out comparison: rule `{c.rule}` on `{c.table}`",
        "",
        _caption(c) + f". Single-indicator signs chosen on the {c.sign_chosen_on}.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    out += ["| " + " | ".join(row) + " |" for row in _rows(c)]
    out += ["", *[f"- {line}" for line in verdict_lines(c)], ""]
    out += [
        f"Held out: {', '.join(c.held_out_ids)}.",
        f"Fitted on: {', '.join(c.fit_ids) or '—'}.",
        "",
    ]
    return "\n".join(out)


def write_markdown(c: Comparison, out: Path | str, overwrite: bool = False) -> Path:
    """Write the markdown fragment to ``out`` atomically (never over the experiments table,
    nor over a file InstructMine did not write unless ``overwrite``)."""
    from instructmine import atomic, ownership

    atomic.refuse_overwriting_inputs([out], [c.table])
    ownership.refuse_foreign([Path(out)], None, overwrite)
    return atomic.write_text(out, ownership.marked(markdown(c), "compare"))
