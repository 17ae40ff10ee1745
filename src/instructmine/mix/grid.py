"""Mixture grids and the resumable results table.

A grid config (YAML)::

    out: runs/mix-grid              # relative to the config's folder
    per_type: 5000                  # records per component in each combination
    seeds: [0, 1]
    include_none: true              # the base model, no fine-tuning, as mixture "None"
    combinations: true              # every non-empty combination (A, C, P, AC, AP, CP, ACP)
    components:
      A: {pool: alpaca.parquet, category: chat}
      C: {pool: codealpaca.parquet, category: code}
      P: {pool: p3.parquet, category: nlp}
    sweeps:                         # one component against the others, at a fixed total
      - {component: C, ratios: [0.5, 1, 1.5, 2], total: 10000}
    unit: instructmine.mix.units:finetune_and_evaluate   # module:function, or null
    unit_options: {...}             # passed to the unit as UnitInput.options
    workers: 2                      # local processes (torch threads shared out between them)

Each mixture (and seed) is one unit of work on the execution engine
(:mod:`instructmine.execute`): the mixture pool is built (a skipped stage when built before),
then ``unit(UnitInput)`` returns a mapping of results (skills and benchmark scores, higher =
better unless the optimiser is told otherwise). Each finished unit appends one JSON line to
``OUT/results.jsonl``; a run started again skips the mixtures already there, so a killed grid
resumes without losing or repeating finished work.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from instructmine.cluster import RaySettings
from instructmine.execute import ResultsTable
from instructmine.mix.spec import ComponentSelect, MixSpec, MixSpecError
from instructmine.stage import StageResult

NONE = "None"


class GridComponent(BaseModel):
    """A grid component: its pool and category (its name is its label, e.g. ``A``); with
    ``select``, every mixture takes the component's top-ranked records instead of a sample."""

    model_config = ConfigDict(extra="forbid")
    pool: Path
    category: str = Field(min_length=1)
    select: ComponentSelect | None = None


class Sweep(BaseModel):
    """Ratios of one component against the others (which split the rest equally); with
    ``against``, against those components only (the paper's specialised:general sweeps are
    ``{component: C, against: [A]}``), named ``C:A=r`` instead of ``C:rest=r``."""

    model_config = ConfigDict(extra="forbid")
    component: str
    ratios: list[float] = Field(min_length=1)
    total: int = Field(ge=1)
    against: list[str] | None = Field(default=None, min_length=1)


class GridConfig(RaySettings):
    """A grid of mixtures over named components, with seeds and a unit of work.

    ``runner: ray`` runs the units as Ray tasks (``ray_address``, ``ray_resources``).
    """

    model_config = ConfigDict(extra="forbid")
    components: dict[str, GridComponent] = Field(min_length=1)
    per_type: int = Field(default=1000, ge=1)
    seeds: list[int] = Field(default=[0], min_length=1)
    include_none: bool = True
    combinations: bool = True
    sweeps: list[Sweep] = []
    mixtures: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="extra mixtures by name: exact records per component (e.g. a proposal)",
    )
    replace: bool | Literal["upsample"] = False
    out: Path = Path("mix-grid")
    unit: str | None = None
    unit_options: dict[str, Any] = {}
    workers: int = Field(default=1, ge=1, description="local worker processes (runner: local)")
    threads: int | None = Field(
        default=None, ge=1, description="torch threads per worker (default: cores / workers)"
    )


@dataclass(frozen=True)
class Mixture:
    """One grid point: a name, exact counts per component (empty for None)."""

    name: str
    counts: dict[str, int]

    def fractions(self, names: list[str]) -> dict[str, float]:
        """Each component's share of the mixture (all 0 for None)."""
        total = sum(self.counts.values())
        return {n: (self.counts.get(n, 0) / total if total else 0.0) for n in names}


@dataclass(frozen=True)
class UnitInput:
    """What a unit of work gets: the mixture, its seed, its pool (None for None), a folder."""

    mixture: Mixture
    seed: int
    pool: Path | None
    workdir: Path
    categories: dict[str, str]
    options: dict[str, Any]


def load_grid(path: Path | str) -> GridConfig:
    """Read a grid config; relative paths are taken from the config's folder."""
    import yaml

    path = Path(path)
    try:
        cfg = GridConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except OSError as e:
        raise MixSpecError(f"{path}: cannot read the grid config ({e.strerror})") from None
    except (ValidationError, yaml.YAMLError) as e:
        raise MixSpecError(f"{path}: invalid grid config: {e}") from None
    for comp in cfg.components.values():
        if not comp.pool.is_absolute():
            comp.pool = _beside(path, comp.pool)
        if comp.select is not None and not comp.select.ranked.is_absolute():
            comp.select.ranked = _beside(path, comp.select.ranked)
    if not cfg.out.is_absolute():
        cfg.out = _beside(path, cfg.out)
    for sweep in cfg.sweeps:
        named = [sweep.component, *(sweep.against or [])]
        bad = [n for n in named if n not in cfg.components]
        if bad or sweep.component in (sweep.against or []):
            raise MixSpecError(
                f"{path}: sweep of {sweep.component!r} against {sweep.against or 'the rest'}: "
                f"each must be a different component ({', '.join(cfg.components)}); fix "
                "'sweeps.component' / 'sweeps.against'"
            )
    for name, counts in cfg.mixtures.items():
        bad = [c for c, k in counts.items() if c not in cfg.components or k < 0]
        if bad or not sum(counts.values()):
            raise MixSpecError(
                f"{path}: mixture {name!r} needs records of the components "
                f"({', '.join(cfg.components)}), each a count >= 0; fix 'mixtures.{name}'"
            )
    return cfg


def enumerate_mixtures(cfg: GridConfig) -> list[Mixture]:
    """The grid's mixtures: None, every non-empty combination in size order, the sweeps, then
    the named ``mixtures``."""
    names = list(cfg.components)
    out: list[Mixture] = [Mixture(NONE, {})] if cfg.include_none else []
    if cfg.combinations:
        for k in range(1, len(names) + 1):
            for combo in itertools.combinations(names, k):
                out.append(Mixture("".join(combo), {n: cfg.per_type for n in combo}))
    for sweep in cfg.sweeps:
        others = sweep.against or [n for n in names if n != sweep.component]
        label = "+".join(sweep.against) if sweep.against else "rest"
        for r in sweep.ratios:
            own = round(sweep.total * r / (1 + r)) if others else sweep.total
            rest = sweep.total - own
            counts = {sweep.component: own}
            for i, n in enumerate(others):
                counts[n] = rest // len(others) + (1 if i < rest % len(others) else 0)
            out.append(Mixture(f"{sweep.component}:{label}={r:g}", counts))
    out += [Mixture(name, dict(counts)) for name, counts in cfg.mixtures.items()]
    return out


def mixture_spec(cfg: GridConfig, mixture: Mixture, seed: int) -> MixSpec:
    """The :class:`MixSpec` that builds one grid mixture."""
    comps = {
        n: {
            "pool": cfg.components[n].pool,
            "category": cfg.components[n].category,
            "count": k,
            "select": cfg.components[n].select,
        }
        for n, k in mixture.counts.items()
        if k > 0
    }
    return MixSpec.model_validate({"components": comps, "seed": seed, "replace": cfg.replace})


def load_unit(ref: str) -> Callable[[UnitInput], Mapping[str, Any]]:
    """Import a unit of work from ``module:function``."""
    import importlib

    module, _, func = ref.partition(":")
    if not module or not func:
        raise MixSpecError(f"unit {ref!r}: write it as 'package.module:function'")
    try:
        return getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as e:
        raise MixSpecError(f"unit {ref!r} cannot be imported ({e})") from None


def _beside(config: Path, rel: Path) -> Path:
    """``rel`` resolved against the config's folder, ``..`` folded (paths in messages stay
    readable: ``benchmarks/results/x``, not ``docs/mix/../../benchmarks/results/x``)."""
    return Path(os.path.normpath(config.parent / rel))


def results_path(cfg: GridConfig) -> Path:
    """The grid's results table, one JSON line per (mixture, seed)."""
    return Path(cfg.out) / "results.jsonl"


def _encode(row: Mapping[str, Any]) -> bytes:
    return json.dumps(row, ensure_ascii=False, sort_keys=True).encode()


def results_table(path: Path | str) -> ResultsTable:
    """The results table at ``path``, keyed ``<mixture> seed <seed>`` (its on-disk format)."""
    return ResultsTable(path, lambda r: f"{r['mixture']} seed {r['seed']}", encode=_encode)


def read_results(path: Path | str) -> list[dict[str, Any]]:
    """Rows of a results table; a torn last line (a killed write) is ignored."""
    return results_table(path).all_rows()


def _units(cfg: GridConfig, only: list[str] | None) -> Iterator[UnitInput]:
    """Every (mixture, seed) of the grid, its mixture pool built (a skipped stage if built).

    Seed-major: every mixture at the first seed, then every mixture at the next, so a run cut
    short still covers the whole grid. None (the base model, which no training seed changes)
    runs at the first seed only.
    """
    from instructmine.mix.build import build_mixture

    categories = {n: c.category for n, c in cfg.components.items()}
    mixtures = [m for m in enumerate_mixtures(cfg) if not only or m.name in only]
    for i, seed in enumerate(cfg.seeds):
        for mixture in mixtures:
            if i and not mixture.counts:
                continue
            work = Path(cfg.out) / "mixtures" / f"{mixture.name.replace(':', '_')}" / f"seed{seed}"
            pool = None
            if mixture.counts:
                pool = work / "pool.parquet"
                build_mixture(mixture_spec(cfg, mixture, seed), pool, where=f"grid {mixture.name}")
            yield UnitInput(mixture, seed, pool, work, categories, dict(cfg.unit_options))


def grid_row(
    unit: Callable[[UnitInput], Mapping[str, Any]], inp: UnitInput, components: list[str]
) -> dict[str, Any]:
    """Run one unit (in whichever process the backend chose) and return its results-table row;
    ``seconds`` is its cost (wall time of the unit in its worker: the pool build not included,
    other workers sharing the cores are)."""
    import time

    start = time.perf_counter()
    results = dict(unit(inp))
    return {
        "mixture": inp.mixture.name,
        "seed": inp.seed,
        "counts": inp.mixture.counts,
        "ratios": inp.mixture.fractions(components),
        "results": results,
        "seconds": time.perf_counter() - start,
    }


def unit_name(inp: UnitInput) -> str:
    """How the table and errors name a unit: ``<mixture> seed <seed>``."""
    return f"{inp.mixture.name} seed {inp.seed}"


def run_grid(
    cfg: GridConfig,
    unit: Callable[[UnitInput], Mapping[str, Any]] | None = None,
    only: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Build every mixture of the grid and run ``unit`` on those not yet in the results table.

    ``unit`` defaults to the config's ``unit``; with neither, mixtures are only built. The
    units run on the execution engine (:mod:`instructmine.execute`): inline, in ``workers: N``
    local processes (N > 1; ``unit`` must then be a module-level function) or, with
    ``runner: ray``, as Ray tasks (``ray_resources`` each). Rows are appended as units finish;
    failed units are named together after the others are recorded. Returns the results
    table's rows (old and new).
    """
    from instructmine.execute import Unit, from_config, run_units

    table = results_table(results_path(cfg))
    if unit is None and cfg.unit:
        unit = load_unit(cfg.unit)
    if unit is None:
        for _ in _units(cfg, only):
            pass
        return table.all_rows()
    done = table.done_keys()
    names = list(cfg.components)
    # every mixture is built (and so checked: counts, pools) before the first unit runs, so a
    # grid whose later mixture cannot be built fails before spending hours on the first ones
    inputs = list(_units(cfg, only))
    units = [
        Unit(unit_name(inp), (unit, inp, names)) for inp in inputs if unit_name(inp) not in done
    ]
    claims = Path(cfg.out) / "claims"
    run_units(units, grid_row, table, claims=claims, what="mixture unit(s)", **from_config(cfg))
    return table.refresh().all_rows()


@dataclass
class GridResult(StageResult):
    """What ``mix grid --run`` did: the results table's rows (old and new) and its path
    (``skipped``: ``OUT/grid.json`` showed the same pools and config, nothing was built or
    run)."""

    results: str
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """The manifest's summary: the table and how many rows it holds."""
        return {"results": self.results, "n_rows": len(self.rows)}


def grid_stage(
    cfg: GridConfig,
    unit: Callable[[UnitInput], Mapping[str, Any]] | None = None,
    only: list[str] | None = None,
) -> GridResult:
    """:func:`run_grid` under the stage contract: skipped when ``OUT/grid.json`` shows the
    same component pools (and selection rankings), the same config without its execution
    settings, the same unit and ``only``, and an untouched results table."""
    from instructmine.execute import results_config
    from instructmine.stage import Stage, manifest_path, run_stage

    if unit is None and cfg.unit:
        unit = load_unit(cfg.unit)
    inputs: dict[str, Path] = {}
    for name, comp in cfg.components.items():
        inputs[f"{name}.pool"] = comp.pool
        if comp.select is not None:
            inputs[f"{name}.ranked"] = comp.select.ranked
    ref = None  # how the manifest names the unit (module:name; any callable's repr otherwise)
    if unit is not None:
        name = getattr(unit, "__qualname__", None)
        ref = f"{unit.__module__}:{name}" if name else repr(unit)
    config = {**results_config(cfg), "unit": ref, "only": only}
    config.pop("out")
    table = results_path(cfg)
    stage = Stage("grid", 1, config, inputs, outputs=[table])

    def work() -> GridResult:
        return GridResult(str(table), run_grid(cfg, unit, only))

    def load(_: dict[str, Any]) -> GridResult:
        return GridResult(str(table), read_results(table))

    return run_stage(stage, manifest_path(cfg.out, "grid", folder=True), work, load)
