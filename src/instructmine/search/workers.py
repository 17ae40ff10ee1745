"""Where trials run: in this process (one worker), in a pool of spawned local processes, or
on Ray actors (``runner: ray``, :mod:`instructmine.search.ray_workers`).

Each worker process builds the objective once (``_init``) and keeps it for the pool's life,
so a model loaded by the objective is loaded once per worker, not once per trial.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from instructmine.cluster import RaySettings
from instructmine.search.objective import (
    Objective,
    Ranking,
    SearchContext,
    Trial,
    build_objective,
)

_objective: Objective | None = None  # per worker process; gone with the pool


def make_context(
    ranked: str | None, by: str, descending: bool, pool: str | None, out: str
) -> SearchContext:
    """The context a factory gets (the ranking read from RANKED when one is given)."""
    ranking = Ranking.load(Path(ranked), by, descending) if ranked else None
    return SearchContext(
        ranking, Path(pool) if pool else (Path(ranked) if ranked else None), Path(out)
    )


def _init(spec: dict[str, Any], context_args: tuple) -> None:
    global _objective
    _objective = build_objective(spec, make_context(*context_args))


def _run(trial: Trial) -> tuple[float, float]:
    start = time.perf_counter()
    loss = float(_objective(trial))
    return loss, time.perf_counter() - start


class InlineExecutor(Executor):
    """Runs each trial at submit time in this process (``workers: 1``)."""

    def __init__(self, spec: dict[str, Any], context_args: tuple):
        self.objective = build_objective(spec, make_context(*context_args))

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        start = time.perf_counter()
        try:
            loss = float(self.objective(*args))
        except BaseException as e:  # handed to the caller through the future
            future.set_exception(e)
        else:
            future.set_result((loss, time.perf_counter() - start))
        return future


def executor(
    workers: int, spec: dict[str, Any], context_args: tuple, ray: RaySettings | None = None
) -> Executor:
    """An executor whose ``submit(run_trial, trial)`` returns ``(loss, seconds)``.

    With ``ray`` (a config whose ``runner`` is ``ray``), trials run on ``workers`` Ray actors.
    """
    if ray is not None and ray.runner == "ray":
        from instructmine.search.ray_workers import RayExecutor

        return RayExecutor(workers, spec, context_args, ray)
    if workers == 1:
        return InlineExecutor(spec, context_args)
    import multiprocessing

    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init,
        initargs=(spec, context_args),
    )


run_trial = _run
