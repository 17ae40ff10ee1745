"""The size search: a log-spaced grid, then BlendSearch over n, random baselines beside.

Order of work: the grid's top-n trials first (they draw the curve and seed BlendSearch), then
BlendSearch (FLAML) asks for integer n in [lo, hi] until ``trials`` top-n trials are finished
or ``seconds`` have passed; random baselines (``random_seeds``) at each n fill free workers.
Every finished trial is appended to ``OUT/trials.jsonl`` before anything else happens; a re-run
reads it, evaluates no finished trial again and replays the finished top-n trials into
BlendSearch (``points_to_evaluate`` + ``evaluated_rewards``).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from instructmine.search.config import SearchConfig
from instructmine.select.subsets import Ranking, Trial
from instructmine.select.trials import TrialsTable


def log_grid(lo: int, hi: int, points: int) -> list[int]:
    """``points`` integers spaced evenly in log between ``lo`` and ``hi`` (both included)."""
    if points <= 0:
        return []
    if points == 1:
        return [int(round(math.sqrt(lo * hi)))]
    return sorted({int(round(x)) for x in np.geomspace(lo, hi, points)})


@dataclass
class SizeRow:
    """One n of the results: the rule's top-n loss and the random baseline beside it."""

    n: int
    phase: str
    loss: float | None
    random_mean: float | None
    random_sd: float | None
    random_seeds: int


@dataclass
class SearchResult:
    """Best n, the table by n, and what this invocation did."""

    best_n: int | None
    best_loss: float | None
    rows: list[SizeRow]
    ran: int
    reused: int
    seconds: float
    trials_path: str
    stopped: str = ""
    full_n: int | None = None
    full_loss: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the ``OUT/search.json`` body)."""
        return asdict(self)


def _searcher(cfg: SearchConfig, finished: dict[int, float]):
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from flaml import BlendSearch, tune
    logging.getLogger("optuna").setLevel(logging.WARNING)
    logging.getLogger("flaml").setLevel(logging.WARNING)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    points = sorted(n for n in finished if cfg.lo <= n <= cfg.hi)
    return BlendSearch(
        metric="loss",
        mode="min",
        space={"n": tune.lograndint(cfg.lo, cfg.hi + 1)},
        low_cost_partial_config={"n": cfg.lo} if cfg.low_cost else None,
        points_to_evaluate=[{"n": n} for n in points] or None,
        evaluated_rewards=[finished[n] for n in points] or None,
        seed=cfg.seed,
    )


class _Scheduler:
    """Chooses the next trial: grid, then BlendSearch, random baselines in free slots."""

    def __init__(self, cfg: SearchConfig, table: TrialsTable, full: Trial | None = None):
        self.cfg = cfg
        self.table = table
        self.full = full  # the full-pool baseline: one long trial, started right after the grid
        self.grid = deque(Trial(n) for n in log_grid(cfg.lo, cfg.hi, min(cfg.grid, cfg.trials)))
        self.randoms: deque[Trial] = deque()
        self.queued: set[str] = set()
        self.pending_top: dict[str, list[str]] = {}  # key -> BlendSearch trial ids waiting
        self.searcher = None
        self.tid = 0
        self.stalls = 0
        self.asking = True
        self.stopped = ""
        self.start = time.monotonic()
        if cfg.baseline != "none":
            for t in list(self.grid):
                self.add_randoms(t.n)

    def add_randoms(self, n: int) -> None:
        for seed in self.cfg.random_seeds:
            t = Trial(n, "random", seed)
            if t.key not in self.table and t.key not in self.queued:
                self.queued.add(t.key)
                self.randoms.append(t)

    def tops_used(self) -> int:
        return len(self.table.top()) + sum(1 for k in self.pending_top if k not in self.table)

    def _ask(self) -> Trial | None:
        cfg = self.cfg
        if self.searcher is None:
            if any(k not in self.table for k in self.pending_top):
                return None  # seed BlendSearch with the whole grid
            self.searcher = _searcher(cfg, self.table.top())
        while self.asking:
            if self.tops_used() >= cfg.trials:
                self.asking, self.stopped = False, f"trial budget ({cfg.trials}) reached"
                break
            if cfg.seconds is not None and time.monotonic() - self.start >= cfg.seconds:
                self.asking, self.stopped = False, f"time budget ({cfg.seconds:g} s) reached"
                break
            self.tid += 1
            tid = str(self.tid)
            suggestion = self.searcher.suggest(tid)
            if suggestion is None:
                if self.pending_top:
                    return None  # BlendSearch waits for a result
                self.stalls += 1
                if self.stalls > 50:
                    self.asking, self.stopped = False, "BlendSearch suggests nothing new"
                continue
            n = min(max(int(suggestion["n"]), cfg.lo), cfg.hi)
            trial = Trial(n)
            if trial.key in self.table:  # known: answer from the table, no new trial
                self.tell(tid, n, self.table.rows[trial.key]["loss"])
                self.stalls += 1
                if self.stalls > 50:
                    self.asking, self.stopped = False, "BlendSearch suggests nothing new"
                continue
            self.stalls = 0
            waiting = self.pending_top.setdefault(trial.key, [])
            waiting.append(tid)
            if len(waiting) == 1:
                return trial
        return None

    def tell(self, tid: str, n: int, loss: float) -> None:
        self.searcher.on_trial_complete(tid, {"loss": loss, "config": {"n": n}})

    def next(self) -> tuple[Trial, str] | None:
        while self.grid:
            t = self.grid.popleft()
            if t.key not in self.table:
                self.pending_top[t.key] = []
                return t, "grid"
        if self.full is not None:
            t, self.full = self.full, None
            if t.key not in self.table:
                return t, "full"
        t = self._ask()
        if t is not None:
            return t, "blend"
        while self.randoms:
            t = self.randoms.popleft()
            if t.key not in self.table:
                return t, "random"
        return None

    def finished(self, trial: Trial, loss: float) -> None:
        if trial.arm != "top":
            return
        for tid in self.pending_top.pop(trial.key, []):
            self.tell(tid, trial.n, loss)
        if self.cfg.baseline == "all":
            self.add_randoms(trial.n)


def _check_inputs(cfg: SearchConfig) -> None:
    """Refuse an empty or unreadable pool or ranking before any folder is made."""
    from instructmine.atomic import refuse_file_as_folder
    from instructmine.io.pool import require_records
    from instructmine.select.run import ranking_file

    if cfg.pool is not None:
        require_records(cfg.pool, "search over")
    if cfg.ranked is not None:
        ranking_file(cfg.ranked)
    refuse_file_as_folder(cfg.out, "search output folder")


def pool_digest(path: Path | str, batch_size: int = 10_000) -> str:
    """``digest_json([ids, messages])`` of a pool, streamed: memory bounded by ``batch_size``."""
    from instructmine.fingerprint import digest_json_lists
    from instructmine.io.pool import iter_pool

    def column(name: str) -> Iterator[Any]:
        for batch in iter_pool(path, batch_size, columns=[name]):
            yield from batch.column(0).to_pylist()

    return digest_json_lists([column("id"), column("messages")])


def setup_digest(cfg: SearchConfig, ranking: Ranking | None = None) -> str:
    """What a finished trial's loss depends on besides its n, arm and seed: the objective and
    its parameters, the ranking (ids in rank order) and the pool's records (checked on resume;
    the budget, bounds and workers may change between runs). ``ranking``: ``cfg.ranked``
    when the caller has already loaded it."""
    from instructmine.fingerprint import digest_json

    key: dict[str, Any] = {"objective": cfg.objective.model_dump(mode="json")}
    if cfg.ranked is not None:
        if ranking is None:
            ranking = Ranking.load(cfg.ranked, cfg.by, cfg.order == "descending")
        key["ranking"] = digest_json(ranking.ids[ranking.order].tolist())
    if cfg.pool is not None:
        key["pool"] = pool_digest(cfg.pool)
    return digest_json(key)


def _check_setup(table: TrialsTable, setup: str) -> None:
    """Refuse to resume trials made with another objective, ranking or pool (rows written
    before trials carried a setup are taken as they are)."""
    for key, row in table.rows.items():
        if row.get("setup", setup) != setup:
            raise ValueError(
                f"{table.path}: trial {key} was run with another objective, ranking or pool; "
                "write to a new `out:` folder (or delete that file to start over)"
            )


def run_search(
    cfg: SearchConfig, on_trial: Callable[[dict[str, Any]], None] | None = None
) -> SearchResult:
    """Run (or resume) the size search; returns the best n and the table by n."""
    from instructmine import atomic
    from instructmine.search.workers import executor, run_trial

    _check_inputs(cfg)
    cfg.out.mkdir(parents=True, exist_ok=True)
    table = TrialsTable(cfg.out / "trials.jsonl")
    ranked = None
    if cfg.ranked is not None:
        ranked = Ranking.load(cfg.ranked, cfg.by, cfg.order == "descending")
    setup = setup_digest(cfg, ranked)
    _check_setup(table, setup)
    reused = len(table)
    full = Trial(len(ranked.order), "full") if cfg.full else None
    sched = _Scheduler(cfg, table, full)
    if cfg.baseline == "all":
        for n in table.top():
            sched.add_randoms(n)
    context_args = (
        str(cfg.ranked) if cfg.ranked else None,
        cfg.by,
        cfg.order == "descending",
        str(cfg.pool) if cfg.pool else None,
        str(cfg.out),
    )
    ran = 0
    started = time.perf_counter()
    pool = executor(cfg.workers, cfg.objective.model_dump(), context_args, ray=cfg)
    pending: dict[Future, tuple[Trial, str]] = {}
    try:
        while True:
            while len(pending) < cfg.workers:
                nxt = sched.next()
                if nxt is None:
                    break
                pending[pool.submit(run_trial, nxt[0])] = nxt
            if not pending:
                break
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                trial, phase = pending.pop(future)
                try:
                    loss, seconds = future.result()
                except Exception as e:
                    raise RuntimeError(
                        f"trial {trial.key} failed: {e}; the finished trials are kept in "
                        f"{table.path}, fix the objective and run again to resume"
                    ) from e
                if not math.isfinite(loss):
                    raise RuntimeError(f"trial {trial.key}: the objective returned {loss}")
                row = {
                    "key": trial.key,
                    "n": trial.n,
                    "arm": trial.arm,
                    "seed": trial.seed,
                    "phase": phase,
                    "loss": loss,
                    "seconds": round(seconds, 3),
                    "setup": setup,
                    "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                }
                table.append(row)
                ran += 1
                sched.finished(trial, loss)
                if on_trial is not None:
                    on_trial(row)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    result = summarise(cfg, table, ran, reused, time.perf_counter() - started, sched.stopped)
    atomic.write_json(cfg.out / "search.json", result.to_dict())
    return result


def summarise(
    cfg: SearchConfig, table: TrialsTable, ran: int, reused: int, seconds: float, stopped: str
) -> SearchResult:
    """The table by n (top-n loss, random mean ± sd) and the best n."""
    top, rand = table.top(), table.random()
    phases = {r["n"]: r["phase"] for r in table.rows.values() if r["arm"] == "top"}
    rows = []
    for n in sorted(set(top) | set(rand)):
        r = rand.get(n, [])
        rows.append(
            SizeRow(
                n=n,
                phase=phases.get(n, "-"),
                loss=top.get(n),
                random_mean=float(np.mean(r)) if r else None,
                random_sd=float(np.std(r, ddof=1)) if len(r) > 1 else None,
                random_seeds=len(r),
            )
        )
    best = min(top, key=lambda n: (top[n], n)) if top else None
    full = table.full()
    full_n = max(full) if full else None
    return SearchResult(
        best_n=best,
        best_loss=top[best] if best is not None else None,
        rows=rows,
        ran=ran,
        reused=reused,
        seconds=round(seconds, 2),
        trials_path=str(table.path),
        stopped=stopped,
        full_n=full_n,
        full_loss=full[full_n] if full_n is not None else None,
    )
