"""Rules as JSON: coefficients on standardised aggregates, the scaling, the indicators a rule
needs, fit statistics and provenance. Built in: the paper's published rules, and
``smollm2-proxy``, fitted by InstructMine's proxy experiments on SmolLM2-135M-Instruct."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

BUILTIN_PACKAGE = "instructmine.data"
BUILTIN_DIR = "rules"


class RuleError(ValueError):
    """A rule that cannot be read or applied."""


class RuleTerm(BaseModel):
    """One regressor: ``coef · (value − mean) / std``, with its fit statistics when fitted."""

    model_config = ConfigDict(extra="forbid")

    aggregate: str
    coef: float = Field(allow_inf_nan=False)
    mean: float = Field(0.0, allow_inf_nan=False)
    std: float = 1.0
    se: float | None = None
    pvalue: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    boot_low: float | None = None
    boot_high: float | None = None
    vif: float | None = None

    @field_validator("std")
    @classmethod
    def _scale(cls, v: float) -> float:
        if not (np.isfinite(v) and v > 0):
            raise ValueError(
                f"must be a finite number above 0, got {v} (a term divides by its std; "
                "use 1 for an unscaled term)"
            )
        return v

    @property
    def column(self) -> str:
        """The score column whose per-record value stands in for the aggregate."""
        return self.aggregate.rsplit(".", 1)[0]


class IndicatorNeed(BaseModel):
    """An indicator a rule needs: its score column, registry name, parameters and model."""

    model_config = ConfigDict(extra="forbid")

    column: str
    indicator: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    model: str | None = None


class Provenance(BaseModel):
    """Where a fitted rule came from."""

    model_config = ConfigDict(extra="forbid")

    experiments: str
    experiments_sha256: str
    n_experiments: int
    sources: list[str] = Field(default_factory=list)
    protocols: list[str] = Field(default_factory=list)
    created: str | None = None


class Rule(BaseModel):
    """A rule: predicted log eval loss = intercept + Σ coef · standardised value (lower: better)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    quoted_from_paper: bool = False
    citation: str | None = None
    intercept: float = Field(allow_inf_nan=False)
    terms: list[RuleTerm]
    indicators: list[IndicatorNeed] = Field(default_factory=list)
    fit: dict[str, Any] | None = None
    provenance: Provenance | None = None

    @field_validator("terms")
    @classmethod
    def _some_terms(cls, v: list[RuleTerm]) -> list[RuleTerm]:
        if not v:
            raise ValueError("a rule needs at least one term (it would rank every record the same)")
        return v

    @property
    def columns(self) -> list[str]:
        """The score columns the rule reads, in term order, without repeats."""
        return list(dict.fromkeys(t.column for t in self.terms))

    def score_params(self) -> dict[str, dict[str, Any]]:
        """The parameters each needed indicator was fitted with, by registry name: what to give
        ``score_pool(params=...)`` so the scores are on the rule's scales."""
        return {n.indicator: dict(n.params) for n in self.indicators if n.indicator and n.params}

    def predict(self, values: dict[str, np.ndarray], per: str = "record") -> np.ndarray:
        """Predicted log eval loss.

        ``per="record"``: ``values`` maps score columns to per-record arrays (a record's own value
        stands in for each aggregate); ``per="aggregate"``: it maps aggregate names to arrays.
        """
        key = (lambda t: t.column) if per == "record" else (lambda t: t.aggregate)
        missing = [key(t) for t in self.terms if key(t) not in values]
        if missing:
            raise RuleError(f"rule {self.name!r} needs {missing}")
        out = None
        for t in self.terms:
            v = np.asarray(values[key(t)], dtype=float)
            part = t.coef * (v - t.mean) / t.std
            out = part if out is None else out + part
        n = len(next(iter(values.values()))) if values else 0
        return self.intercept + (out if out is not None else np.zeros(n))

    def save(self, path: Path | str) -> Path:
        """Write the rule as JSON, atomically."""
        from instructmine import atomic

        return atomic.write_json(path, self.model_dump(mode="json"))


def builtin_names() -> list[str]:
    """Names of the built-in rules."""
    folder = resources.files(BUILTIN_PACKAGE) / BUILTIN_DIR
    return sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))


def _parse(text: str, where: str) -> Rule:
    try:
        return Rule.model_validate(json.loads(text))
    except ValidationError as e:
        raise RuleError(f"{where}: not a valid rule: {_problems(e)}") from None
    except ValueError as e:  # JSON syntax
        raise RuleError(f"{where}: not valid JSON: {e}") from None


def _problems(e: ValidationError) -> str:
    """A validation error as one line: ``terms.0.std: must be ... ; ...``."""
    parts = []
    for err in e.errors():
        where = ".".join(str(x) for x in err["loc"])
        parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def load_rule(ref: Path | str) -> Rule:
    """A rule from a JSON file, or a built-in rule by name (``paper-final``, ``paper-early``…)."""
    path = Path(ref)
    if path.is_file():
        return _parse(path.read_text(encoding="utf-8"), str(path))
    names = builtin_names()
    if str(ref) in names:
        res = resources.files(BUILTIN_PACKAGE) / BUILTIN_DIR / f"{ref}.json"
        return _parse(res.read_text(encoding="utf-8"), f"built-in rule {ref}")
    raise RuleError(f"{ref}: no such rule file, nor a built-in rule (built in: {names})")


def indicator_needs(columns: list[str]) -> list[IndicatorNeed]:
    """What each score column needs: its indicator's registry name, default params and model."""
    from instructmine.indicators.registry import create

    needs = []
    for col in columns:
        try:
            ind = create(col)
        except Exception:  # an unknown column: record it alone
            needs.append(IndicatorNeed(column=col))
            continue
        needs.append(
            IndicatorNeed(
                column=col,
                indicator=ind.name,
                params=ind.params.model_dump(mode="json"),
                model=ind.model_name,
            )
        )
    return needs
