"""Mixture-grid units in local worker processes (``workers: N``), rows into the results table.

The driver builds every mixture pool first, then hands each pending (mixture, seed) to a pool
of ``workers`` spawned processes and appends each row as its unit finishes (the driver is the
only writer), so a killed run loses only unfinished units. Each worker limits torch to
``threads`` intra-op threads (default: the machine's cores shared out between the workers), so
N workers do not oversubscribe the cores.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from instructmine.mix.grid import (
    GridConfig,
    UnitInput,
    append_result,
    call_unit,
    result_row,
    unit_name,
)


def _init_worker(threads: int) -> None:
    import os

    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)


def worker_threads(workers: int, threads: int | None = None) -> int:
    """Torch threads per worker: ``threads`` if given, else the cores shared out (at least 1)."""
    import os

    return threads or max(1, (os.cpu_count() or 1) // workers)


def run_units_locally(
    cfg: GridConfig,
    unit: Callable[[UnitInput], Mapping[str, Any]],
    pending: list[UnitInput],
    table: Path,
) -> int:
    """Run ``unit`` on every input of ``pending`` in ``cfg.workers`` processes; return how many
    finished. ``unit`` must be importable by reference (a module-level function).

    Raises ``RuntimeError`` naming the failed mixtures after the others are recorded.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from instructmine.runners.collect import collect_finished, finished_futures

    if not pending:
        return 0
    with ProcessPoolExecutor(
        max_workers=cfg.workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(worker_threads(cfg.workers, cfg.threads),),
    ) as pool:
        futures = {pool.submit(call_unit, unit, inp): inp for inp in pending}
        return collect_finished(
            finished_futures(futures),
            lambda inp, results: append_result(table, result_row(cfg, inp, results)),
            name=unit_name,
            what="mixture unit(s) failed",
            table=table,
        )
