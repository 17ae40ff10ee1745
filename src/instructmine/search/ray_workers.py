"""Size-search trials on Ray: a fixed set of actors, each building the objective once.

:class:`RayExecutor` is a :class:`concurrent.futures.Executor`, so the search loop
(:func:`~instructmine.search.run.run_search`) is the same as with local processes: it submits
at most ``workers`` trials at a time and appends each finished one to ``OUT/trials.jsonl``.
Each trial runs on an idle actor that asks for ``ray_resources``; an actor whose worker or node
dies is restarted (its objective built again) and the trial retried, up to
``ray_resources.max_retries`` times. The objective's files (``OUT/trials/...``) must be on a
path every node reaches.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Executor, Future
from contextlib import ExitStack
from typing import Any

from instructmine.cluster import RaySettings
from instructmine.search.objective import Trial


class _TrialActor:
    """Holds one built objective; runs trials on it."""

    def __init__(self, spec: dict[str, Any], context_args: tuple) -> None:
        from instructmine.search.objective import build_objective
        from instructmine.search.workers import make_context

        self.objective = build_objective(spec, make_context(*context_args))

    def run(self, trial: Trial) -> tuple[float, float]:
        start = time.perf_counter()
        loss = float(self.objective(trial))
        return loss, time.perf_counter() - start


class RayExecutor(Executor):
    """Runs ``submit(run_trial, trial)`` on ``workers`` Ray actors; futures give (loss, s)."""

    def __init__(
        self, workers: int, spec: dict[str, Any], context_args: tuple, settings: RaySettings
    ) -> None:
        from instructmine.cluster import connect

        self._stack = ExitStack()
        self._ray = self._stack.enter_context(connect(settings.ray_address))
        res = settings.ray_resources
        actor = self._ray.remote(_TrialActor).options(
            num_cpus=res.num_cpus,
            num_gpus=res.num_gpus,
            resources=dict(res.resources),
            max_restarts=res.max_retries,
            max_task_retries=res.max_retries,
        )
        self._actors = [actor.remote(spec, context_args) for _ in range(workers)]
        self._idle = list(self._actors)
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        """Run one trial (``args == (trial,)``) on an idle actor (``fn`` is ``run_trial``)."""
        with self._lock:
            if not self._idle:
                raise RuntimeError("no idle Ray actor: submit at most `workers` trials at once")
            actor = self._idle.pop()
        future = actor.run.remote(*args).future()

        def release(_: Future) -> None:
            with self._lock:
                self._idle.append(actor)

        future.add_done_callback(release)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the actors and disconnect from the cluster."""
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors, self._idle = [], []
        self._stack.close()
