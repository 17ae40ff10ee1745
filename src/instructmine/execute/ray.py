"""The Ray backend: one Ray task per unit on the cluster at ``ray_address``.

Each task asks for ``ray_resources`` (:class:`~instructmine.cluster.TaskResources`); a task
whose worker or node dies is retried by Ray (``max_retries``), a task's own error is not.
Rows come back to the driver, which alone writes the table (the table needs no shared file
system; the units' inputs and outputs do). With a claims folder, each task notes
``claims/<key>.ray`` (host, pid, key) for operators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import partial
from typing import Any

from instructmine.execute.backends import BackendOptions
from instructmine.execute.unit import Unit


def _task(fn: Callable[..., Any], key: str, claims: str | None, *args: Any) -> Any:
    """One unit on a Ray worker; notes who runs it in ``claims/<key>.ray``."""
    if claims is not None:
        import os
        import socket
        from pathlib import Path

        from instructmine.execute.engine import claim_name

        note = Path(claims) / f"{claim_name(key)}.ray"
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text(f"{socket.gethostname()} {os.getpid()} {key}\n")
    return fn(*args)


class RayBackend:
    """Ray tasks; every pending unit is submitted at once unless ``in_flight`` caps it."""

    def __init__(self, options: BackendOptions):
        from instructmine.cluster import TaskResources

        self.slots = options.in_flight or 1_000_000
        self._options = options
        self._resources = options.ray_resources or TaskResources()
        self._stack = ExitStack()
        self._refs: dict[Any, Unit] = {}

    def __enter__(self) -> RayBackend:
        from instructmine.cluster import connect

        self._ray = self._stack.enter_context(connect(self._options.ray_address))
        self._task = self._ray.remote(_task).options(**self._resources.remote_options())
        return self

    def __exit__(self, *exc: object) -> None:
        import contextlib

        for ref in self._refs:  # left running only when the driver stops early (Ctrl-C)
            with contextlib.suppress(Exception):
                self._ray.cancel(ref, force=True)
        self._stack.close()

    def submit(self, fn: Callable[..., Any], unit: Unit) -> None:
        """Submit ``fn(*unit.args)`` as a task."""
        ref = self._task.remote(fn, unit.key, self._options.claims, *unit.args)
        self._refs[ref] = unit

    def wait(self) -> Iterator[tuple[Unit, Callable[[], Any]]]:
        """The next finished task (``ray.wait``, one at a time)."""
        ready, _ = self._ray.wait(list(self._refs), num_returns=1)
        for ref in ready:
            yield self._refs.pop(ref), partial(self._ray.get, ref)
