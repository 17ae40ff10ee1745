"""The backend registry: a backend is a file with one class, registered here by name.

A backend runs units handed to it and reports them as they finish::

    class MyBackend:
        def __init__(self, options: BackendOptions): ...
        slots: int                      # units it runs at once (the engine keeps it full)
        def __enter__(self): ...        # start workers / connect
        def __exit__(self, *exc): ...   # stop them (nothing outlives the run)
        def submit(self, fn, unit): ... # start fn(*unit.args)
        def wait(self): ...             # block until >= 1 finished: [(unit, result_fn)]

``result_fn()`` returns the unit's row or raises its error. Add the class's file to
``BACKENDS`` below, or call :func:`register_backend` (tests, plugins).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from instructmine.execute.unit import Unit

BACKENDS: dict[str, str] = {
    "inline": "instructmine.execute.inline:InlineBackend",
    "processes": "instructmine.execute.processes:ProcessesBackend",
    "ray": "instructmine.execute.ray:RayBackend",
}
_REGISTERED: dict[str, Callable[[BackendOptions], Backend]] = {}


@dataclass
class BackendOptions:
    """What a backend is given: local workers and threads, or the Ray cluster and resources.

    ``in_flight`` caps the units dispatched at once (the size search: ``workers``); None lets
    a backend take as many as it can (Ray: every pending unit at once). ``claims``: the
    claims folder (the Ray backend notes ``<key>.ray``: host and pid running it).
    """

    workers: int = 1
    threads: int | None = None
    ray_address: str | None = "auto"
    ray_resources: Any = None
    in_flight: int | None = None
    claims: str | None = None


class Backend(Protocol):
    """Runs units and reports them as they finish (see the module docstring)."""

    slots: int

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...

    def submit(self, fn: Callable[..., Any], unit: Unit) -> None:
        """Start ``fn(*unit.args)``."""
        ...

    def wait(self) -> Iterator[tuple[Unit, Callable[[], Any]]]:
        """Block until at least one unit finished; yield ``(unit, result_fn)`` for each."""
        ...


def register_backend(name: str, factory: Callable[[BackendOptions], Backend]) -> None:
    """Make ``factory`` (a backend class) available as ``backend=name``."""
    _REGISTERED[name] = factory


def unregister_backend(name: str) -> None:
    """Forget a backend added by :func:`register_backend`."""
    _REGISTERED.pop(name, None)


def make_backend(name: str, options: BackendOptions) -> Backend:
    """The backend called ``name``, built with ``options``."""
    if name in _REGISTERED:
        return _REGISTERED[name](options)
    ref = BACKENDS.get(name)
    if ref is None:
        known = ", ".join(sorted({*BACKENDS, *_REGISTERED}))
        raise ValueError(f"unknown backend {name!r}; choose one of: {known}")
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)(options)


def from_config(cfg: Any) -> dict[str, Any]:
    """:func:`~instructmine.execute.run_units` keywords from a stage config with ``runner``,
    ``workers`` and the Ray settings (:class:`~instructmine.cluster.RaySettings`); ``threads``
    when the config has it."""
    return {
        "backend": backend_name(cfg.runner, cfg.workers),
        "workers": cfg.workers,
        "threads": getattr(cfg, "threads", None),
        "ray_address": cfg.ray_address,
        "ray_resources": cfg.ray_resources,
    }


EXECUTION_KEYS = {"runner", "ray_address", "ray_resources", "workers", "threads"}


def results_config(cfg: Any) -> dict[str, Any]:
    """A stage config without its execution settings (where the units run changes no row):
    the config a stage's manifest keys its skip on."""
    return cfg.model_dump(mode="json", exclude=EXECUTION_KEYS & set(type(cfg).model_fields))


def backend_name(runner: str, workers: int = 1) -> str:
    """The backend a config's ``runner`` and ``workers`` ask for: ``local`` is ``inline`` for
    one worker and ``processes`` for more; any other name is taken as it is."""
    if runner == "local":
        return "inline" if workers <= 1 else "processes"
    return runner
