"""The fit stage: experiments table -> selected regressors -> OLS (or ridge) -> a rule file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from instructmine.rule import selection
from instructmine.rule.noise import noise_ceiling
from instructmine.rule.regression import OLSFit, fit_ols
from instructmine.rule.ridge import fit_ridge
from instructmine.rule.rules import Provenance, Rule, RuleTerm, indicator_needs, load_rule
from instructmine.rule.table import read_experiments
from instructmine.stage import StageResult

STAGE_VERSION = 1


class FitConfig(BaseModel):
    """How to fit: the selection criterion, the candidates, bootstrap and ridge settings."""

    model_config = ConfigDict(extra="forbid")

    select: Literal["bic", "pvalue", "cv", "none"] = "bic"
    aggregates: list[str] | None = None
    p_threshold: float = 0.05
    folds: int = 5
    n_boot: int = 500
    seed: int = 0
    ridge: Literal["auto", "never", "always"] = "auto"
    vif_threshold: float = 10.0
    name: str | None = None
    description: str | None = None  # prepended to the generated "fitted on …" line


def _select(cfg: FitConfig, X: np.ndarray, y: np.ndarray, names: list[str], ids: list[str]):
    if cfg.select == "bic":
        return selection.by_bic(X, y, names)
    if cfg.select == "pvalue":
        return selection.by_pvalue(X, y, names, cfg.p_threshold)
    if cfg.select == "cv":
        return selection.by_cv(X, y, names, ids, cfg.folds)
    return selection.Selection(kept=list(names))


def fit_table(path: Path | str, cfg: FitConfig, subset_ids: list[str] | None = None) -> Rule:
    """Fit a rule on an experiments table (no files written).

    ``subset_ids``: fit on these sub-datasets only (the rest held out); the rule records the
    sub-datasets it was fitted on in ``fit["subset_ids"]``.
    """
    table = read_experiments(path)
    if subset_ids is not None:
        table = table.only(subset_ids)
    data = table.subsets(cfg.aggregates)
    if not data.names:
        raise ValueError(f"{path}: no usable aggregate columns (dropped: {data.dropped})")
    full = fit_ols(data.X, data.y, data.names, n_boot=0)
    chosen = _select(cfg, data.X, data.y, data.names, data.ids)
    cols = [data.names.index(n) for n in chosen.kept]
    X = data.X[:, cols]
    fit: OLSFit = fit_ols(X, data.y, chosen.kept, cfg.n_boot, cfg.seed)
    collinear = fit.max_vif > cfg.vif_threshold
    if cfg.ridge == "always" or (cfg.ridge == "auto" and collinear and len(chosen.kept) > 1):
        fit = fit_ridge(X, data.y, chosen.kept, fit, cfg.n_boot, cfg.seed)
    cv = selection.cv_r2(X, data.y, data.ids, cfg.folds)
    stats = {
        **fit.stats(),
        "cv_r2": cv,
        "folds": cfg.folds,
        "select": cfg.select,
        "candidates": data.names,
        "dropped_columns": data.dropped,
        "eliminated": [{"aggregate": n, "criterion": c} for n, c in chosen.steps],
        "vif_all_candidates": {t.name: t.vif for t in full.terms},
        "collinear": collinear,
        "noise_ceiling": noise_ceiling(table).to_dict(),
        "intercept_se": fit.intercept_se,
        "subset_ids": data.ids,
    }
    terms = [
        RuleTerm(
            aggregate=t.name,
            coef=t.coef,
            mean=float(fit.scaling.mean[j]),
            std=float(fit.scaling.std[j]),
            **{k: _num(getattr(t, k)) for k in ("se", "pvalue", "ci_low", "ci_high")},
            **{k: _num(getattr(t, k)) for k in ("boot_low", "boot_high", "vif")},
        )
        for j, t in enumerate(fit.terms)
    ]
    prov = Provenance(
        experiments=str(path),
        experiments_sha256=table.sha256,
        n_experiments=len(table.rows),
        sources=table.sources,
        protocols=table.protocols,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return Rule(
        name=cfg.name or Path(path).stem,
        description=(f"{cfg.description} " if cfg.description else "")
        + f"Fitted on {path} ({len(data.ids)} sub-datasets, select={cfg.select}).",
        intercept=fit.intercept,
        terms=terms,
        indicators=indicator_needs(list(dict.fromkeys(t.column for t in terms))),
        fit=stats,
        provenance=prov,
    )


def _num(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


@dataclass
class FitResult(StageResult):
    """The fit stage's result: the rule (``skipped``: the manifest matched, it was loaded)."""

    rule: Rule

    def to_dict(self) -> dict[str, Any]:
        """The manifest's summary: the rule's name and terms."""
        return {"rule": self.rule.name, "terms": [t.aggregate for t in self.rule.terms]}


def fit_rule(
    experiments: Path | str, out: Path | str, cfg: FitConfig, overwrite: bool = False
) -> FitResult:
    """The fit stage: write the rule to ``out`` and its manifest ``OUT.fit.json`` beside it;
    skipped (the rule loaded from ``out``) when the table, config and rule are unchanged."""
    from instructmine import atomic, ownership
    from instructmine.stage import Stage, manifest_path, run_stage

    out = Path(out)
    atomic.refuse_overwriting_inputs([out], [experiments])
    ownership.refuse_foreign([out], manifest_path(out, "fit"), overwrite)
    stage = Stage("fit", STAGE_VERSION, cfg.model_dump(mode="json"), {"experiments": experiments})
    stage.outputs = [out]

    def work() -> FitResult:
        rule = fit_table(experiments, cfg)
        rule.save(out)
        return FitResult(rule)

    return run_stage(stage, manifest_path(out, "fit"), work, lambda _: FitResult(load_rule(out)))
