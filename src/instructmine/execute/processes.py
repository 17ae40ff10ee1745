"""The processes backend: ``workers`` spawned local processes, torch threads shared out.

Each worker limits torch (and OpenMP) to ``threads`` intra-op threads, default the machine's
cores shared out between the workers, so N workers do not oversubscribe the cores. ``fn`` and
the units' arguments are pickled: ``fn`` must be a module-level function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from instructmine.execute.backends import BackendOptions
from instructmine.execute.unit import Unit


def worker_threads(workers: int, threads: int | None = None) -> int:
    """Torch threads per worker: ``threads`` if given, else the cores shared out (at least 1)."""
    import os

    return threads or max(1, (os.cpu_count() or 1) // workers)


def _init_worker(threads: int) -> None:
    import os

    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)


class ProcessesBackend:
    """A pool of ``options.workers`` spawned processes."""

    def __init__(self, options: BackendOptions):
        self.slots = options.workers
        self._threads = worker_threads(options.workers, options.threads)
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Future, Unit] = {}

    def __enter__(self) -> ProcessesBackend:
        import multiprocessing

        self._pool = ProcessPoolExecutor(
            max_workers=self.slots,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._threads,),
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, fn: Callable[..., Any], unit: Unit) -> None:
        """Queue ``fn(*unit.args)`` on the pool."""
        self._futures[self._pool.submit(fn, *unit.args)] = unit

    def wait(self) -> Iterator[tuple[Unit, Callable[[], Any]]]:
        """The units finished since the last call (blocks for at least one)."""
        done, _ = wait(list(self._futures), return_when=FIRST_COMPLETED)
        for future in done:
            yield self._futures.pop(future), future.result
