"""Held-out evaluation of a rule: rank held-out sub-datasets by the fitted rule, by each built-in
paper rule, by each single indicator aggregate and at random; Spearman with the observed log eval
loss, bootstrap CIs, and paired verdicts (which beats which, or that it cannot be told).

Held-out sub-datasets are never used in the fit: with a split (``fit_fraction`` / ``holdout``)
the rule is fitted here on the other sub-datasets only; with a given rule fitted on this same
table, the sub-datasets it records as fitted on are left out. A single indicator's sign is chosen
on the fit sub-datasets, never on the held-out ones (unless there are none: then it is chosen on
the held-out ones and marked optimistic).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from instructmine.rule import compare_stats as st
from instructmine.rule.compare_split import SubsetMeans, split_subsets, subset_means
from instructmine.rule.fit import FitConfig
from instructmine.rule.rules import Rule
from instructmine.rule.table import ExperimentTable, TableError, read_experiments


class CompareConfig(BaseModel):
    """How to compare: the rule (or the split to fit one on), bootstrap and chance settings."""

    model_config = ConfigDict(extra="forbid")

    rule: str | None = Field(None, description="RULE.json or built-in name; None: fit on a split")
    fit_fraction: float = Field(0.5, gt=0, lt=1)
    holdout: list[str] | None = Field(None, description="held-out subset_ids (else seeded split)")
    split_seed: int = 0
    n_boot: int = Field(1000, ge=50)
    n_random: int = Field(1000, ge=50)
    seed: int = 0
    paper_rules: list[str] | None = Field(None, description="default: every quoted built-in")
    fit: FitConfig = Field(default_factory=lambda: FitConfig(n_boot=0))


@dataclass
class Method:
    """One ranking of the held-out sub-datasets and its Spearman with their log eval loss."""

    name: str
    kind: str  # "fitted rule", "paper rule", "indicator", "random"
    detail: str
    rho: float
    ci_low: float
    ci_high: float
    fit_rho: float | None = None


@dataclass
class Verdict:
    """A paired bootstrap of ``rho(a) - rho(b)`` and what it says."""

    a: str
    b: str
    diff: float
    ci_low: float
    ci_high: float
    text: str


@dataclass
class Comparison:
    """Everything ``instructmine compare`` reports."""

    table: str
    table_sha256: str
    rule: str
    mode: str
    fit_ids: list[str]
    held_out_ids: list[str]
    sign_chosen_on: str
    n_boot: int
    seed: int
    methods: list[Method]
    verdicts: list[Verdict]
    random_orders: dict[str, float]
    unavailable: dict[str, str] = field(default_factory=dict)
    rule_terms: dict[str, float] = field(default_factory=dict)
    rule_fitted_on: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (NaN, e.g. a degenerate CI, becomes null)."""
        return _finite(asdict(self))


def _finite(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _fitted_rule(table: ExperimentTable, cfg: CompareConfig) -> tuple[Rule, list[str], list[str]]:
    """The rule, the sub-datasets it was fitted on (within this table) and the held-out ones."""
    from instructmine.rule.fit import fit_table
    from instructmine.rule.rules import load_rule

    ids = table.subset_ids
    if cfg.rule is None:
        fit_ids, held = split_subsets(ids, cfg.fit_fraction, cfg.split_seed, cfg.holdout)
        rule = fit_table(table.path, cfg.fit, fit_ids)
        return rule.model_copy(update={"name": f"fitted on {len(fit_ids)}"}), fit_ids, held
    rule = load_rule(cfg.rule)
    prov = rule.provenance
    same = prov is not None and (
        prov.experiments_sha256 == table.sha256 or _same_file(prov.experiments, table.path)
    )
    used: list[str] = []
    if same:
        recorded = (rule.fit or {}).get("subset_ids")
        if recorded is None:
            raise TableError(
                f"rule {rule.name!r} was fitted on {table.path} and does not record which "
                "sub-datasets: nothing there is held out (use a split: drop --rule)"
            )
        used = sorted(set(recorded) & set(ids))
    unknown = sorted(set(cfg.holdout or []) - set(ids))
    if unknown:
        raise TableError(f"--holdout names sub-datasets {table.path} lacks: {unknown}")
    held = sorted(set(cfg.holdout or ids) - set(used))
    if len(held) < 3:
        raise TableError(
            f"{table.path}: {len(held)} sub-datasets not used in fitting rule {rule.name!r}; "
            "need at least 3 held out"
        )
    return rule, used, held


def _same_file(a: str, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _rule_score(rule: Rule, held: SubsetMeans) -> np.ndarray | str:
    missing = [t.aggregate for t in rule.terms if t.aggregate not in held.names]
    if missing:
        return f"the table lacks {missing}"
    values = {t.aggregate: held.column(t.aggregate) for t in rule.terms}
    nulls = sorted({held.ids[i] for v in values.values() for i in np.flatnonzero(np.isnan(v))})
    if nulls:
        return f"null aggregates in held-out sub-datasets {nulls}"
    return rule.predict(values, per="aggregate")


def _paper_rules(cfg: CompareConfig) -> list[Rule]:
    from instructmine.rule.rules import builtin_names, load_rule

    if cfg.paper_rules is not None:
        return [load_rule(n) for n in cfg.paper_rules]
    return [r for r in map(load_rule, builtin_names()) if r.quoted_from_paper]


def _indicators(
    fit: SubsetMeans, held: SubsetMeans
) -> tuple[dict[str, np.ndarray], dict[str, tuple[str, float]], dict[str, str]]:
    """Signed single-indicator scores: sign and rho chosen on ``fit``, scores on ``held``."""
    scores, info, skipped = {}, {}, {}
    for name in held.names:
        h, f = held.column(name), fit.column(name)
        if np.isnan(h).any() or np.isnan(f).any():
            skipped[name] = "null values"
            continue
        rho = st.spearman(f, fit.y)
        if not np.isfinite(rho) or np.ptp(h) == 0:
            skipped[name] = "constant"
            continue
        sign = 1.0 if rho >= 0 else -1.0
        direction = "higher = worse" if sign > 0 else "higher = better"
        scores[name] = sign * h
        info[name] = (direction, abs(rho))
    return scores, info, skipped


def _verdict(a: str, b: str, diff: float, lo: float, hi: float) -> Verdict:
    ci = f"Δρ = {diff:+.3f}, 95% CI [{lo:+.3f}, {hi:+.3f}]"
    if lo == hi == diff == 0:
        text = f"{a} and {b} rank the held-out sub-datasets identically (same order)"
    elif lo > 0:
        text = f"{a} beats {b} ({ci})"
    elif hi < 0:
        text = f"{b} beats {a} ({ci})"
    else:
        text = f"{a} vs {b}: CI of the difference includes 0 → cannot tell ({ci})"
    return Verdict(a, b, diff, lo, hi, text)


def _verdicts(methods: list[Method], boot: st.Boot, best: str | None) -> list[Verdict]:
    """Fitted rule vs random, vs the best single indicator (chosen on the fit split) and vs each
    paper rule; the best single indicator vs random."""
    rho = {m.name: m.rho for m in methods}
    label = {m.name: m.name for m in methods}
    pairs = [("fitted rule", "random")]
    if best is not None:
        label[best] = f"best single indicator {best}"
        pairs += [("fitted rule", best), (best, "random")]
    pairs += [("fitted rule", m.name) for m in methods if m.kind == "paper rule"]
    out = []
    for a, b in pairs:
        lo, hi = st.percentile_ci(boot.draws[a] - boot.draws[b])
        out.append(_verdict(label[a], label[b], rho[a] - rho[b], lo, hi))
    return out


def compare_table(path: Path | str, cfg: CompareConfig) -> Comparison:
    """Rank the held-out sub-datasets of the experiments table at ``path`` every way; compare."""
    table = read_experiments(path)
    rule, fit_ids, held_ids = _fitted_rule(table, cfg)
    held = subset_means(table, held_ids)
    fit = subset_means(table, fit_ids) if fit_ids else held
    sign_on = "fit split" if fit_ids else "held-out (no fit sub-datasets here: optimistic)"
    unavailable: dict[str, str] = {}
    scores: dict[str, np.ndarray] = {}
    kinds: dict[str, tuple[str, str, float | None]] = {}
    fitted = _rule_score(rule, held)
    if isinstance(fitted, str):
        raise TableError(f"rule {rule.name!r} cannot rank the held-out sub-datasets: {fitted}")
    scores["fitted rule"] = fitted
    kinds["fitted rule"] = ("fitted rule", rule.name, None)
    for paper in _paper_rules(cfg):
        s = _rule_score(paper, held)
        if isinstance(s, str):
            unavailable[paper.name] = s
        else:
            scores[paper.name] = s
            kinds[paper.name] = ("paper rule", "quoted from the paper", None)
    ind, info, skipped = _indicators(fit, held)
    unavailable.update({k: f"indicator: {v}" for k, v in skipped.items()})
    for name, s in ind.items():
        scores[name] = s
        kinds[name] = ("indicator", f"{info[name][0]} (sign from {sign_on})", info[name][1])
    boot = st.bootstrap(scores, held.y, cfg.n_boot, cfg.seed)
    chance = st.random_orders(held.y, cfg.n_random, cfg.seed + 1)
    methods = []
    for name, s in scores.items():
        kind, detail, fit_rho = kinds[name]
        lo, hi = st.percentile_ci(boot.draws[name])
        methods.append(Method(name, kind, detail, st.spearman(s, held.y), lo, hi, fit_rho))
    lo, hi = st.percentile_ci(chance)
    methods.append(Method("random", "random", f"{cfg.n_random} random orders", 0.0, lo, hi))
    best = max(ind, key=lambda n: info[n][1]) if ind else None
    verdicts = _verdicts(methods, boot, best)
    return Comparison(
        table=str(path),
        table_sha256=table.sha256,
        rule=rule.name,
        mode="split" if cfg.rule is None else "given rule",
        fit_ids=list(fit_ids),
        held_out_ids=list(held_ids),
        sign_chosen_on=sign_on,
        n_boot=cfg.n_boot,
        seed=cfg.seed,
        methods=methods,
        verdicts=verdicts,
        random_orders={"n": cfg.n_random, "mean": float(np.nanmean(chance)), "low": lo, "high": hi},
        unavailable=unavailable,
        rule_terms={t.aggregate: t.coef for t in rule.terms},
        rule_fitted_on=(rule.fit or {}).get("subset_ids"),
    )
