"""Mixture specs: components drawn from pools, sized by count, fraction, weight or ratio.

A spec (YAML)::

    seed: 0
    total: 600                 # needed when a component is sized by fraction or weight
    replace: false             # false | true (i.i.d. draws) | upsample (whole passes first)
    components:
      chat: {pool: alpaca.parquet, category: chat, weight: 1}
      code: {pool: code.parquet, category: code, ratio: {to: chat, value: 1.5}}
      nlp:  {pool: p3.parquet, category: nlp, count: 100}
      best: {pool: dolly.parquet, category: chat, count: 50, select: {ranked: dolly.ranked.parquet}}

Each component gives exactly one of ``count`` (records), ``fraction`` (of ``total``),
``weight`` (a relative share of what counts and fractions leave of ``total``) or ``ratio``
(``value`` times another component's size). A component with ``select`` takes the top of a
rule's ranking (``instructmine rank``) instead of a random sample. Sizes are resolved to exact
counts that add up to ``total`` (largest remainders). Impossible specs raise
:class:`MixSpecError` naming the spec file and the fix.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class MixSpecError(ValueError):
    """A mixture spec cannot be built; the message names the spec file and the fix."""


class RatioTo(BaseModel):
    """``value`` times the size of component ``to``."""

    model_config = ConfigDict(extra="forbid")
    to: str
    value: float = Field(gt=0)


class ComponentSelect(BaseModel):
    """Take a component's records from the top of a ranking instead of at random.

    ``ranked``: a ``RANKED.parquet`` written by ``instructmine rank`` over the component's pool
    (lower predicted log loss first); the component takes its best ``count`` records there.
    """

    model_config = ConfigDict(extra="forbid")
    ranked: Path


class Component(BaseModel):
    """One component of a mixture: a pool, its category and exactly one size; optionally a
    ranking to take the top of (``select``) rather than a random sample."""

    model_config = ConfigDict(extra="forbid")
    pool: Path
    category: str = Field(min_length=1)
    count: int | None = Field(default=None, ge=0)
    fraction: float | None = Field(default=None, ge=0, le=1)
    weight: float | None = Field(default=None, ge=0)
    ratio: RatioTo | None = None
    replace: bool | Literal["upsample"] | None = None  # None: the spec's setting
    select: ComponentSelect | None = None

    @model_validator(mode="after")
    def _one_size(self) -> Component:
        given = [
            k for k in ("count", "fraction", "weight", "ratio") if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of count, fraction, weight, ratio (found {given or 'none'})"
            )
        return self


class MixSpec(BaseModel):
    """A mixture: named components, an optional total, sampling mode and seed."""

    model_config = ConfigDict(extra="forbid")
    components: dict[str, Component] = Field(min_length=1)
    total: int | None = Field(default=None, ge=1)
    replace: bool | Literal["upsample"] = False
    seed: int = 0


def load_spec(path: Path | str) -> MixSpec:
    """Read and validate a YAML mixture spec; pool paths are relative to the spec's folder."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise MixSpecError(f"{path}: cannot read the mixture spec ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise MixSpecError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(data, dict):
        raise MixSpecError(f"{path}: a mixture spec is a mapping with a 'components' key")
    try:
        spec = MixSpec.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in e.errors()
        )
        raise MixSpecError(f"{path}: invalid mixture spec: {problems}") from None
    for comp in spec.components.values():
        if not comp.pool.is_absolute():
            comp.pool = path.parent / comp.pool
        if comp.select is not None and not comp.select.ranked.is_absolute():
            comp.select.ranked = path.parent / comp.select.ranked
    return spec


def _largest_remainder(shares: dict[str, float], total: int) -> dict[str, int]:
    """Integer counts proportional to ``shares`` adding up to exactly ``total``."""
    s = sum(shares.values())
    raw = {k: total * v / s for k, v in shares.items()}
    out = {k: math.floor(v) for k, v in raw.items()}
    left = total - sum(out.values())
    for k in sorted(raw, key=lambda k: (out[k] - raw[k], list(raw).index(k)))[:left]:
        out[k] += 1
    return out


def resolve_counts(spec: MixSpec, where: str = "mixture spec") -> dict[str, int]:
    """Exact record counts per component (spec order); raises :class:`MixSpecError`."""
    comps = spec.components
    kind: dict[str, tuple[str, float]] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> tuple[str, float]:
        if name in kind:
            return kind[name]
        c = comps[name]
        if c.ratio is None:
            size = next(
                (k, getattr(c, k))
                for k in ("count", "fraction", "weight")
                if getattr(c, k) is not None
            )
        else:
            target = c.ratio.to
            if target not in comps:
                raise MixSpecError(
                    f"{where}: component {name!r} has a ratio to {target!r}, which is not a "
                    f"component (components: {', '.join(comps)}); fix 'ratio.to'"
                )
            if target in chain:
                raise MixSpecError(
                    f"{where}: ratios form a cycle ({' -> '.join((*chain, target))}); "
                    "give one of them a count, fraction or weight"
                )
            k, v = resolve(target, (*chain, target))
            size = (k, v * c.ratio.value)
        kind[name] = size
        return size

    for name in comps:
        resolve(name, (name,))
    counts = {n: int(round(v)) for n, (k, v) in kind.items() if k == "count"}
    fractions = {n: v for n, (k, v) in kind.items() if k == "fraction"}
    weights = {n: v for n, (k, v) in kind.items() if k == "weight"}
    if not fractions and not weights:
        if spec.total is not None and sum(counts.values()) != spec.total:
            raise MixSpecError(
                f"{where}: the counts add up to {sum(counts.values())}, not total={spec.total}; "
                "change the counts or drop 'total'"
            )
        return {n: counts[n] for n in comps}
    if spec.total is None:
        raise MixSpecError(
            f"{where}: components sized by fraction or weight need 'total' (the mixture's size)"
        )
    fixed = sum(counts.values())
    frac = sum(fractions.values())
    if fixed > spec.total:
        raise MixSpecError(
            f"{where}: the counts alone add up to {fixed} > total={spec.total}; raise 'total' "
            "or lower the counts"
        )
    share_left = 1 - fixed / spec.total - frac
    if (weights and share_left < -1e-9) or (not weights and abs(share_left) > 1e-6):
        raise MixSpecError(
            f"{where}: ratios do not add up: fractions sum to {frac:g} and counts take "
            f"{fixed / spec.total:g} of total={spec.total} (sum {frac + fixed / spec.total:g}, "
            "must be 1); fix the fractions, or size the rest by 'weight'"
        )
    if weights and sum(weights.values()) <= 0:
        raise MixSpecError(f"{where}: the weights add up to 0; give a component a weight > 0")
    shares = {n: v for n, v in fractions.items()}
    if weights:
        wsum = sum(weights.values())
        shares.update({n: max(share_left, 0) * v / wsum for n, v in weights.items()})
    out = dict(counts)
    out.update(_largest_remainder(shares, spec.total - fixed) if shares else {})
    return {n: out[n] for n in comps}
