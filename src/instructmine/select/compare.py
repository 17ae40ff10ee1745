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

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from instructmine.select.compare_config import METHODS, CompareConfig
from instructmine.select.compare_stats import MethodRow
from instructmine.select.subsets import Trial


@dataclass
class CompareResult:
    """The comparison's table, its verdict and what this invocation did."""

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


def plan_methods(cfg: CompareConfig) -> tuple[list[str], dict[str, str]]:
    """The methods to run and, for each left out, why (an explicit list must be runnable)."""
    missing: dict[str, str] = {}
    if cfg.ranked is None:
        missing["rule"] = "no `ranked:` file (make one with `instructmine rank`)"
    if not _has_ifd(cfg):
        where = f"{cfg.pool}" + (f" or the score folder {cfg.scores}" if cfg.scores else "")
        missing["ifd"] = (
            f"no 'ifd' column in {where} (compute it with `instructmine score POOL -o SCORES "
            "-i ifd` and give `scores: SCORES`)"
        )
    if cfg.methods is None:
        return [m for m in METHODS if m not in missing], missing
    bad = {m: why for m, why in missing.items() if m in cfg.methods}
    if bad:
        raise ValueError("; ".join(f"method {m}: {why}" for m, why in bad.items()))
    methods = [m for m in METHODS if m in cfg.methods]
    if "random" not in methods:
        raise ValueError("methods must include random: every method is judged against it")
    return methods, {}


def _has_ifd(cfg: CompareConfig) -> bool:
    import pyarrow.parquet as pq

    from instructmine.scoring.files import files_from_dir

    if "ifd" in pq.read_schema(cfg.pool).names:
        return True
    if cfg.scores is None:
        return False
    return any("ifd" in pq.read_schema(f).names for f in files_from_dir(cfg.scores).values())


def build_subsets(cfg: CompareConfig, methods: list[str]) -> dict[str, tuple[list[str], Path]]:
    """Unit key -> (record ids, subset pool file), for every method and seed."""
    import numpy as np

    from instructmine.io.pool import pool_ids, write_subset
    from instructmine.select.config import SelectConfig
    from instructmine.select.run import run_select
    from instructmine.select.subsets import Ranking

    sub = cfg.out / "subsets"
    chosen: dict[str, tuple[list[str], Path]] = {}
    for m in methods:
        if m == "random":
            continue
        if m == "rule":
            sel = SelectConfig(by=cfg.by, order=cfg.order, top=cfg.n)
            args: dict[str, Any] = {"ranked": cfg.ranked, "pool": cfg.pool, "scores": cfg.scores}
        elif m == "ifd":
            sel = SelectConfig(method="ifd", top=cfg.n, below=cfg.ifd_below)
            args = {"ranked": cfg.pool, "pool": cfg.pool, "scores": cfg.scores}
        else:
            sel = SelectConfig(method="rds", rds=cfg.rds_settings(), top=cfg.n)
            args = {"ranked": cfg.pool, "queries": cfg.queries or cfg.eval}
        path = sub / f"{m}.parquet"
        summary = run_select(out=path, config=sel, work_dir=cfg.out / "work", **args)
        if summary.selected < cfg.n:
            raise ValueError(
                f"method {m} found only {summary.selected} records for n={cfg.n} "
                f"({path.with_suffix('.select.json')}); lower n"
            )
        for seed in cfg.seeds:
            chosen[Trial(cfg.n, m, seed).key] = (summary.ids, path)
    ids = pool_ids(cfg.pool).to_numpy(zero_copy_only=False)
    ranking = Ranking(ids, np.arange(len(ids)))
    for seed in cfg.random_seeds:
        trial = Trial(cfg.n, "random", seed)
        picked = ranking.subset(trial)
        path = sub / f"random_s{seed}.parquet"
        write_subset(cfg.pool, picked, path)
        chosen[trial.key] = (picked, path)
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


def _check_rows(table: Any, setup: str, subsets: dict[str, tuple[list[str], Path]]) -> None:
    from instructmine.fingerprint import digest_json

    for key, row in table.rows.items():
        if row.get("setup") != setup:
            raise ValueError(
                f"{table.path}: unit {key} was run with another objective, model settings or "
                "eval set; write to a new `out:` folder (or delete that file to start over)"
            )
        if key in subsets and row.get("subset") != digest_json(subsets[key][0]):
            raise ValueError(
                f"{table.path}: unit {key} was run on another subset (pool, ranking or n "
                "changed); write to a new `out:` folder"
            )


def run_compare(
    cfg: CompareConfig, on_unit: Callable[[dict[str, Any]], None] | None = None
) -> CompareResult:
    """Run (or resume) every method at ``cfg.n``; return the table and the verdict."""
    from instructmine import atomic
    from instructmine.fingerprint import digest_json
    from instructmine.models import describe
    from instructmine.select.compare_stats import compare_table
    from instructmine.select.trials import TrialsTable

    started = time.perf_counter()
    cfg.out.mkdir(parents=True, exist_ok=True)
    methods, not_run = plan_methods(cfg)
    subsets = build_subsets(cfg, methods)
    table = TrialsTable(cfg.out / "results.jsonl")
    setup = digest_json(cfg.setup_key())
    _check_rows(table, setup, subsets)
    reused = sum(1 for k in subsets if k in table)
    all_ids = {i for ids, _ in subsets.values() for i in ids}
    fit = proxy_fit(cfg, all_ids) if cfg.objective == "proxy" else lora_fit(cfg)
    ran = 0

    def run_unit(key: str) -> None:
        nonlocal ran
        fresh = TrialsTable(table.path)  # another process may have finished it meanwhile
        if key in fresh:
            return
        ids, path = subsets[key]
        method, n, seed = key.split(":")
        trial = Trial(int(n), method, int(seed))
        t0 = time.perf_counter()
        loss = float(fit(trial, ids, path))
        row = {
            "key": key,
            "n": trial.n,
            "arm": method,
            "seed": trial.seed,
            "loss": loss,
            "seconds": round(time.perf_counter() - t0, 3),
            "setup": setup,
            "subset": digest_json(ids),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        fresh.append(row)
        ran += 1
        if on_unit is not None:
            on_unit(row)

    # Each unit runs under a claim (flock on out/claims/<key>.lock): a second select-compare on
    # the same config takes the units nobody holds, then waits for the held ones (running one
    # itself if its holder died), so two shells use two cores and both print the full table.
    claims = cfg.out / "claims"
    for key in subsets:
        if key in table:
            continue
        fd = atomic.claim(claims / f"{key}.lock")
        if fd is None:
            continue
        try:
            run_unit(key)
        finally:
            os.close(fd)
    for key in subsets:
        if key not in TrialsTable(table.path):
            with atomic.locked(claims / f"{key}.lock"):
                run_unit(key)
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
    atomic.write_json(cfg.out / "compare.json", result.to_dict())
    return result
