"""``select-compare``: at one n, a subset by every method, each fine-tuned, eval losses compared.

Work folder ``out/``:

- ``subsets/<method>.parquet`` (+ ``.select.json``): the rule, RDS+ and IFD subsets, written by
  the select stage (:func:`instructmine.select.run.run_select`); ``subsets/random_s<seed>``;
- ``work/``: the RDS+ ranking (its embeddings: ``$INSTRUCTMINE_CACHE/rds``); ``trunk/``: the
  proxy's trunk cache; ``runs/<unit>/``: LoRA run folders;
- ``results.jsonl``: one line per finished unit (a method at a seed), the search module's
  :class:`~instructmine.select.trials.TrialsTable`; a re-run never repeats a finished unit, and
  refuses rows made with another objective, eval set or subset;
- ``compare.json``: the table and the verdict.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instructmine.select.compare_config import CompareConfig
from instructmine.select.compare_stats import MethodRow
from instructmine.select.subsets import Trial
from instructmine.stage import Stage, StageResult, manifest_path, run_stage, skipped_fields

STAGE_VERSION = 1


@dataclass
class CompareResult(StageResult):
    """The comparison's table, its verdict and what this invocation did (``skipped``:
    ``out/compare.json`` showed the same inputs and config, nothing ran)."""

    rows: list[MethodRow]
    verdict: str
    model: str
    objective: str
    pool: str
    eval: str
    ran: int
    reused: int
    seconds: float
    results_path: str
    not_run: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the ``compare.json`` body)."""
        doc = dict(self.__dict__)
        doc["rows"] = [r.to_dict() for r in self.rows]
        return doc

    @classmethod
    def stored(cls, doc: dict[str, Any]) -> CompareResult:
        """A skipped call's result: the stored one, nothing run now."""
        return cls(**{**skipped_fields(cls, doc), "rows": [MethodRow(**r) for r in doc["rows"]]})


def _inputs(cfg: CompareConfig, method: Any) -> Any:
    from instructmine.select.methods import MethodInputs

    ranked = cfg.ranked if method.reads_ranked else cfg.pool
    return MethodInputs(ranked, cfg.pool, cfg.scores, cfg.queries or cfg.eval, cfg.out / "work")


def plan_methods(cfg: CompareConfig) -> tuple[list[str], dict[str, str]]:
    """The methods to run (registered ones, :mod:`instructmine.select.methods`) and, for each
    left out, why (an explicit list must be runnable)."""
    from instructmine.select import methods

    registered = methods.registered()
    wanted = cfg.methods if cfg.methods is not None else list(registered)
    missing: dict[str, str] = {}
    for name in wanted:
        why = methods.get(name).unavailable(_inputs(cfg, registered[name]))
        if why is not None:
            missing[name] = why
    if cfg.methods is None:
        return [m for m in registered if m not in missing], missing
    if missing:
        raise ValueError("; ".join(f"method {m}: {why}" for m, why in missing.items()))
    if "random" not in cfg.methods:
        raise ValueError("methods must include random: every method is judged against it")
    return [m for m in registered if m in cfg.methods], {}


def build_subsets(cfg: CompareConfig, methods: list[str]) -> dict[str, tuple[list[str], Path]]:
    """Unit key -> (record ids, subset pool file), for every method and seed: each subset is
    a select stage (``subsets/<method>.parquet``, ``<method>_s<seed>`` for a seeded method
    such as random, each with its ``.select.json``)."""
    from instructmine.select import methods as registry
    from instructmine.select.config import SelectConfig
    from instructmine.select.run import run_select

    sub = cfg.out / "subsets"
    chosen: dict[str, tuple[list[str], Path]] = {}
    for m in methods:
        method = registry.get(m)
        given = _inputs(cfg, method)
        options = method.compare_options(cfg)
        draws = [(s, f"{m}_s{s}", [s]) for s in cfg.random_seeds] if method.seeded else []
        for seed, name, train_seeds in draws or [(None, m, cfg.seeds)]:
            sel = SelectConfig(method=m, top=cfg.n, seed=seed, **options)
            path = sub / f"{name}.parquet"
            summary = run_select(
                given.ranked,
                path,
                sel,
                pool=cfg.pool,
                scores=cfg.scores,
                queries=given.queries if "queries" in method.reads else None,
                work_dir=given.work,
            )
            if summary.selected < cfg.n:
                raise ValueError(
                    f"method {m} found only {summary.selected} records for n={cfg.n} "
                    f"({path.with_suffix('.select.json')}); lower n"
                )
            for s in train_seeds:
                chosen[Trial(cfg.n, m, s).key] = (summary.ids, path)
    return chosen


def proxy_fit(cfg: CompareConfig, all_ids: set[str]) -> Callable[[Trial, list[str], Path], float]:
    """Eval loss of the rule's proxy fine-tune (trunk cache over every subset's records)."""
    cache: list[Any] = []

    def fit(trial: Trial, ids: list[str], subset: Path) -> float:
        from instructmine.proxy.run import run_proxy
        from instructmine.proxy.trunk_cache import cache_for_pool

        if not cache:
            cache.append(cache_for_pool(cfg.proxy, cfg.pool, cfg.eval, cfg.out / "trunk", all_ids))
        return run_proxy(cfg.proxy, cache[0], ids, int(trial.seed)).eval_loss

    return fit


def lora_fit(cfg: CompareConfig) -> Callable[[Trial, list[str], Path], float]:
    """Eval loss after a LoRA fine-tune (``instructmine train``) on the subset pool."""

    def fit(trial: Trial, ids: list[str], subset: Path) -> float:
        from instructmine.train import train

        settings = cfg.train.model_copy(update={"eval_data": cfg.eval, "seed": int(trial.seed)})
        run_dir = cfg.out / "runs" / trial.key.replace(":", "_")
        result = train(subset, run_dir, settings, progress=False, overwrite=True)
        if result.eval_loss_after is None:
            raise RuntimeError(f"{run_dir}: the run measured no eval loss")
        return float(result.eval_loss_after)

    return fit


def _check_rows(table: Any, subsets: dict[str, tuple[list[str], Path]]) -> None:
    from instructmine.fingerprint import digest_json

    table.check_setup("unit", "another objective, model settings or eval set")
    for key, row in table.rows.items():
        if key in subsets and row.get("subset") != digest_json(subsets[key][0]):
            raise ValueError(
                f"{table.path}: unit {key} was run on another subset (pool, ranking or n "
                "changed); write to a new `out:` folder"
            )


def compare_unit(
    fit: Callable[[Trial, list[str], Path], float], key: str, ids: list[str], path: Path, setup: str
) -> dict[str, Any]:
    """One method at one seed: fit on its subset; the results-table row."""
    from instructmine.fingerprint import digest_json
    from instructmine.select.trials import trial_row

    method, n, seed = key.split(":")
    trial = Trial(int(n), method, int(seed))
    t0 = time.perf_counter()
    loss = float(fit(trial, ids, path))
    seconds = time.perf_counter() - t0
    return trial_row(trial, None, loss, seconds, setup, subset=digest_json(ids))


def compare_stage(cfg: CompareConfig) -> Stage:
    """The select-compare stage: pool, eval set and the optional ranking, scores and queries
    in; the results table out; keyed on the whole config but its output folder."""
    config = cfg.model_dump(mode="json", exclude={"out"})
    names = ("pool", "eval", "ranked", "scores", "queries")
    inputs = {k: getattr(cfg, k) for k in names if getattr(cfg, k) is not None}
    return Stage("compare", STAGE_VERSION, config, inputs, outputs=[cfg.out / "results.jsonl"])


def run_compare(
    cfg: CompareConfig, on_unit: Callable[[dict[str, Any]], None] | None = None
) -> CompareResult:
    """Run (or resume) every method at ``cfg.n``; return the table and the verdict.

    ``out/compare.json`` is the stage manifest: with the same inputs and config and an
    untouched results table the stored result is returned (``skipped``).
    """
    manifest = manifest_path(cfg.out, "compare", folder=True)
    work = lambda: _compare(cfg, on_unit)  # noqa: E731
    return run_stage(compare_stage(cfg), manifest, work, CompareResult.stored)


def _compare(cfg: CompareConfig, on_unit: Callable[[dict[str, Any]], None] | None) -> CompareResult:
    """Run the units and build the table (:func:`run_compare` without the manifest).

    The units (a method at a seed) run on the execution engine's inline backend with claims
    (``out/claims/<key>.lock``): a second ``select-compare`` on the same config takes the units
    nobody holds, then waits for the held ones (running one itself if its holder died), so two
    shells use two cores and both print the full table.
    """
    from instructmine.execute import Unit, run_units
    from instructmine.fingerprint import digest_json
    from instructmine.models import describe
    from instructmine.select.compare_stats import compare_table
    from instructmine.select.trials import TrialsTable

    started = time.perf_counter()
    cfg.out.mkdir(parents=True, exist_ok=True)
    methods, not_run = plan_methods(cfg)
    subsets = build_subsets(cfg, methods)
    setup = digest_json(cfg.setup_key())
    table = TrialsTable(cfg.out / "results.jsonl", setup)
    _check_rows(table, subsets)
    reused = sum(1 for k in subsets if k in table)
    all_ids = {i for ids, _ in subsets.values() for i in ids}
    fit = proxy_fit(cfg, all_ids) if cfg.objective == "proxy" else lora_fit(cfg)
    units = [Unit(key, (fit, key, ids, path, setup)) for key, (ids, path) in subsets.items()]
    report = run_units(
        units, compare_unit, table, claims=cfg.out / "claims", on_row=on_unit, what="unit(s)"
    )
    ran = report.ran
    table = TrialsTable(table.path)
    losses: dict[str, list[float]] = {m: [] for m in methods}
    for key in subsets:
        losses[key.split(":")[0]].append(table.rows[key]["loss"])
    rows, verdict = compare_table(losses, cfg.n, cfg.level)
    result = CompareResult(
        rows=rows,
        verdict=verdict,
        model=describe(cfg.model),
        objective=cfg.objective,
        pool=str(cfg.pool),
        eval=str(cfg.eval),
        ran=ran,
        reused=reused,
        seconds=round(time.perf_counter() - started, 2),
        results_path=str(table.path),
        not_run=not_run,
    )
    return result
