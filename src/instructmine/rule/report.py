"""Readable tables of a rule: the regression table of a fitted rule and the list of built-ins."""

from __future__ import annotations

from typing import Any

from instructmine.rule.rules import Rule, builtin_names, load_rule


def _f(v: float | None, digits: int = 4) -> str:
    return "" if v is None else f"{v:.{digits}g}"


def rule_table(rule: Rule) -> Any:
    """A rich table: a row per term (coef, SE, p, CIs, VIF) and the fit statistics."""
    from rich.table import Table

    stats = rule.fit or {}
    flat = {k: stats.get(k) for k in ("r2", "adj_r2", "cv_r2", "aic", "bic")}
    ceiling = stats.get("noise_ceiling") or {}
    flat.update({f"noise ceiling {k}": v for k, v in ceiling.items()})
    caption = ", ".join(f"{k} {_f(v)}" for k, v in flat.items() if isinstance(v, int | float))
    t = Table(
        title=f"rule {rule.name!r}: predicted log eval loss (lower is better)", caption=caption
    )
    for col in ("term", "coef", "SE", "p", "95% CI", "bootstrap CI", "VIF"):
        t.add_column(col, justify="left" if col == "term" else "right")
    t.add_row("intercept", _f(rule.intercept), "", "", "", "", "")
    for term in rule.terms:
        ci = f"[{_f(term.ci_low)}, {_f(term.ci_high)}]" if term.ci_low is not None else ""
        boot = f"[{_f(term.boot_low)}, {_f(term.boot_high)}]" if term.boot_low is not None else ""
        t.add_row(
            term.aggregate, _f(term.coef), _f(term.se), _f(term.pvalue), ci, boot, _f(term.vif)
        )
    return t


def builtin_table() -> Any:
    """A rich table of the built-in rules: name, terms, and whether quoted from the paper."""
    from rich.table import Table

    t = Table(title="built-in rules")
    for col in ("name", "terms", "source"):
        t.add_column(col)
    for name in builtin_names():
        rule = load_rule(name)
        t.add_row(name, ", ".join(term.aggregate for term in rule.terms), rule_source(rule))
    return t


def rule_source(rule: Rule) -> str:
    """Where a rule comes from: the paper (with the citation), or which fit (experiments,
    sub-datasets, R², indicator models). Shared by ``instructmine rules`` and the demo."""
    if rule.quoted_from_paper:
        return f"quoted from the paper ({rule.citation})"
    fit, prov = rule.fit or {}, rule.provenance
    parts = [f"{prov.n_experiments} experiments in {prov.experiments}"] if prov else []
    if fit.get("n_subsets") is not None:
        parts.append(f"{fit['n_subsets']} sub-datasets")
    parts += [f"{k} {_f(fit[k], 2)}" for k in ("r2", "cv_r2") if fit.get(k) is not None]
    models = sorted({n.model for n in rule.indicators if n.model})
    if models:
        parts.append(f"indicator models {', '.join(models)}")
    return f"fitted by InstructMine, not from the paper ({'; '.join(parts) or 'no fit record'})"
