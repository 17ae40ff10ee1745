"""What a grid measured: each mixture's skills over seeds, and the mixture paper's findings
tested against the seed-to-seed noise.

The findings are stated by category (``chat``, ``code``, ``nlp``), so they apply to any grid
whose components carry those categories, whatever their names:

- each type helps its own skill (the single-type mixture against the base model, None), and
  more than the other types do (against the other single-type mixtures);
- every type helps NLP;
- NLP-task data hurts alignment (adding the ``nlp`` component lowers ``chat``);
- code helps alignment (adding the ``code`` component raises ``chat``);
- the best specialised:general ratio is ≈ 1.5 (in a ratio sweep with a 1.5 point).

Adding a component also adds its records (AC trains on twice A's records), in the paper as
here, so "adding P" confounds the type with the amount of training; the docs say so.

A difference is called only when a two-sided Welch t-test over the seeds gives p < 0.05;
otherwise the verdict is "cannot tell" (the error bars cannot decide). The base model has no
seed variance (no training, greedy evaluation), so against it the test is one-sample.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NONE = "None"
ALPHA = 0.05


@dataclass(frozen=True)
class Stat:
    """A skill of one mixture over its seeds: mean, sample SD (0 for one value) and n."""

    mean: float
    sd: float
    n: int


@dataclass(frozen=True)
class Contrast:
    """``a − b`` on one skill, the direction the paper reports, and what the seeds allow."""

    finding: str
    skill: str
    a: str
    b: str
    expected: int  # +1: the paper says a is better; -1: worse
    diff: float
    se: float | None
    p: float | None
    verdict: str  # "held", "reversed", "cannot tell" (p >= ALPHA), "one seed" (no SE)


def skill_stats(
    rows: Sequence[Mapping[str, Any]], skills: Sequence[str]
) -> dict[str, dict[str, Stat]]:
    """``{mixture: {skill: Stat}}`` in the rows' order, over every row of each mixture."""
    values: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        per = values.setdefault(str(r["mixture"]), {})
        for s in skills:
            if s in r["results"]:
                per.setdefault(s, []).append(float(r["results"][s]))
    out: dict[str, dict[str, Stat]] = {}
    for m, per in values.items():
        out[m] = {}
        for s, v in per.items():
            mean = sum(v) / len(v)
            sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
            out[m][s] = Stat(mean, sd, len(v))
    return out


def welch(a: Stat, b: Stat, fixed: set[int] = frozenset()) -> tuple[float | None, float | None]:
    """Standard error and two-sided p of ``a.mean − b.mean`` (Welch). A side listed in
    ``fixed`` (0 for a, 1 for b) is a constant (the base model); a side with one value and not
    fixed has unknown variance, and then both are None."""
    from scipy import stats

    terms = []
    for i, s in enumerate((a, b)):
        if i in fixed:
            continue
        if s.n < 2:
            return None, None
        terms.append((s.sd**2 / s.n, s.n - 1))
    var = sum(t for t, _ in terms)
    if not terms or var == 0:
        return 0.0, (0.0 if a.mean != b.mean else 1.0)
    df = var**2 / sum(t**2 / d for t, d in terms)
    se = math.sqrt(var)
    return se, float(2 * stats.t.sf(abs(a.mean - b.mean) / se, df))


def contrast(
    stats: Mapping[str, Mapping[str, Stat]], finding: str, skill: str, a: str, b: str, exp: int
) -> Contrast | None:
    """``a − b`` on ``skill`` with its verdict, or None when either mixture was not run."""
    sa, sb = stats.get(a, {}).get(skill), stats.get(b, {}).get(skill)
    if sa is None or sb is None:
        return None
    fixed = {i for i, m in enumerate((a, b)) if m == NONE}
    se, p = welch(sa, sb, fixed)
    diff = sa.mean - sb.mean
    if p is None:
        verdict = "one seed"
    elif p >= ALPHA:
        verdict = "cannot tell"
    else:
        verdict = "held" if diff * exp > 0 else "reversed"
    return Contrast(finding, skill, a, b, exp, diff, se, p, verdict)


def paper_findings(
    stats: Mapping[str, Mapping[str, Stat]], categories: Mapping[str, str]
) -> list[Contrast]:
    """The mixture paper's findings as contrasts between this grid's mixtures.

    ``categories`` maps component names (in the grid's order, which names the mixtures: A, C,
    P → ``AC``) to ``chat`` / ``code`` / ``nlp``; a finding whose component or skill is
    missing is left out.
    """
    names = list(categories)
    by_cat = {c: n for n, c in categories.items()}

    def mix(parts) -> str:
        return "".join(n for n in names if n in parts)

    out: list[Contrast | None] = []
    for n, cat in categories.items():
        out.append(contrast(stats, "each type helps its own skill", cat, n, NONE, +1))
        for other in names:
            if other != n:
                finding = "each type helps its own skill most"
                out.append(contrast(stats, finding, cat, n, other, +1))
    for n, cat in categories.items():
        if cat != "nlp":
            out.append(contrast(stats, "every type helps NLP", "nlp", n, NONE, +1))
    for cat, finding, exp in (
        ("nlp", "NLP-task data hurts alignment", -1),
        ("code", "code helps alignment", +1),
    ):
        added = by_cat.get(cat)
        if added is None:
            continue
        others = [n for n in names if n != added]
        for k in range(1, len(others) + 1):
            for combo in itertools.combinations(others, k):
                out.append(contrast(stats, finding, "chat", mix({*combo, added}), mix(combo), exp))
    out += _ratio_findings(stats, categories)
    return [c for c in out if c is not None]


SWEEP_NAME = re.compile(r"^(?P<comp>[^:=]+):(?P<against>[^=]+)=(?P<ratio>[0-9.]+)$")
PAPER_RATIO = 1.5


def _ratio_findings(
    stats: Mapping[str, Mapping[str, Stat]], categories: Mapping[str, str]
) -> list[Contrast | None]:
    """ "Best specialised:general ratio ≈ 1.5": in each ratio sweep that has a 1.5 point, that
    point against every other ratio, on the swept component's own skill and on chat."""
    sweeps: dict[tuple[str, str], dict[float, str]] = {}
    for name in stats:
        m = SWEEP_NAME.match(name)
        if m and m["comp"] in categories:
            sweeps.setdefault((m["comp"], m["against"]), {})[float(m["ratio"])] = name
    out: list[Contrast | None] = []
    for (comp, _), points in sweeps.items():
        at = points.get(PAPER_RATIO)
        if at is None:
            continue
        for skill in dict.fromkeys((categories[comp], "chat")):
            for r, other in sorted(points.items()):
                if r != PAPER_RATIO:
                    finding = f"best specialised:general ratio ≈ {PAPER_RATIO:g}"
                    out.append(contrast(stats, finding, skill, at, other, +1))
    return out


def stats_markdown(stats: Mapping[str, Mapping[str, Stat]], skills: Sequence[str]) -> str:
    """The mixtures × skills table: mean ± SD (n seeds)."""
    lines = ["| mixture | " + " | ".join(skills) + " |", "|---" * (len(skills) + 1) + "|"]
    for m, per in stats.items():
        cells = []
        for s in skills:
            st = per.get(s)
            cells.append("—" if st is None else f"{st.mean:.4f} ± {st.sd:.4f} ({st.n})")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def findings_markdown(contrasts: Sequence[Contrast]) -> str:
    """The findings table: the paper's direction, the measured difference ± SE, p, verdict."""
    lines = [
        "| paper's finding | skill | contrast | paper says | measured a − b ± SE | p | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in contrasts:
        se = "?" if c.se is None else f"{c.se:.4f}"
        p = "—" if c.p is None else f"{c.p:.3f}"
        says = "a > b" if c.expected > 0 else "a < b"
        lines.append(
            f"| {c.finding} | {c.skill} | {c.a} − {c.b} | {says} | {c.diff:+.4f} ± {se} | {p} "
            f"| {c.verdict} |"
        )
    return "\n".join(lines)


def grid_caption(cfg) -> str:
    """Which model and which data produced a grid's numbers, for plots and reports."""
    train = cfg.unit_options.get("train", {}) if isinstance(cfg.unit_options, dict) else {}
    model = train.get("model", "the unit's model")
    parts = ", ".join(f"{n} = {c.pool.stem} ({c.category})" for n, c in cfg.components.items())
    return f"model {model}; {parts}; {cfg.per_type} records per type; seeds {cfg.seeds}"


def skill_keys(cfg) -> dict[str, str]:
    """The grid's named skills and the result key each is (``unit_options.skills``)."""
    named = cfg.unit_options.get("skills") if isinstance(cfg.unit_options, dict) else None
    return dict(named or {})


def named_skills(cfg, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The grid's named skills (``unit_options.skills``), else every result key of the rows."""
    named = skill_keys(cfg)
    if named:
        return list(named)
    return sorted({s for r in rows for s in r["results"]})


def remeasure(rows: Sequence[Mapping[str, Any]], measures: Mapping[str, str]) -> list[dict]:
    """``rows`` with each skill re-derived from another result key (``{"nlp":
    "-loss/arc_easy_answers"}``; a leading ``-`` negates a loss), to test the findings on a
    skill's second measure. A row without the key is an error naming the key and the row."""
    from instructmine.mix.units import name_skills

    out = []
    for r in rows:
        missing = sorted({k.lstrip("-") for k in measures.values()} - set(r["results"]))
        if missing:
            raise KeyError(
                f"mixture {r['mixture']} seed {r['seed']} has no result {missing[0]!r} "
                f"(its results: {', '.join(sorted(r['results']))})"
            )
        out.append({**r, "results": name_skills(dict(r["results"]), dict(measures))})
    return out
