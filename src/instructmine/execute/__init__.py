"""One execution engine under every stage that runs many independent units of work.

The proxy experiments, the mixture grid, the size search and ``select-compare`` all run the
same shape of job: many units (an experiment, a (mixture, seed), a trial, a method at a seed),
each a plain function of plain arguments that returns one table row. This package is the one
place that dispatches them, claims them, collects their rows and reports failures.

API::

    from instructmine.execute import ResultsTable, Unit, run_units

    table = ResultsTable("out/results.jsonl", key="experiment_id", setup=digest)
    table.check_setup("experiment")         # refuse rows made with another setup
    units = [Unit(spec["experiment_id"], (spec, proxy, trunk)) for spec in specs]
    report = run_units(units, run_experiment, table, backend="processes", workers=2)
    report.ran, report.reused               # what this call did

- :class:`Unit` — ``key`` (the row's key in the table) and ``args`` for ``fn(*args)``. With
  the *processes* and *ray* backends ``fn`` and ``args`` are pickled: ``fn`` must be a
  module-level function.
- :class:`ResultsTable` — an append-only JSON Lines file, one row per finished unit, keyed by
  a field (or a function of the row); ``done_keys()`` re-reads it (another shell may have
  added rows); ``append(row)`` is atomic and durable (``atomic.append_line``); rows carry a
  ``setup`` digest that :meth:`ResultsTable.check_setup` compares on resume. The row encoding
  is the table's own (each consumer keeps its on-disk format byte for byte).
- :func:`run_units` — runs every unit whose key is not in the table on a *backend*, appends
  each row as its unit finishes (only the driver writes), and calls ``on_row(row)``. ``units``
  is a list, a lazy iterable (a unit is pulled only when a slot is free) or a
  :class:`UnitSource` whose next unit depends on finished rows (the size search's
  BlendSearch).
- Claims: before a unit is dispatched the driver takes a non-blocking ``flock`` on
  ``claims/<key>.lock`` (``atomic.claim``; the file holds ``pid key`` for operators), so two
  shells on the same table share the work; a unit held by another shell is waited for at the
  end and taken from the table, or run here if its holder died (the kernel frees the lock).
- ONE failure rule: a unit that raises does not stop the others; every unit that finished is
  recorded, then :class:`UnitsFailed` (a ``RuntimeError``) names every failed key with its
  error. A re-run resumes from the table.

Backends (``backend=`` name; one file each, registered in :mod:`.backends`):

- ``inline`` — in this process, one unit at a time (``fn`` may be a closure);
- ``processes`` — ``workers`` spawned processes; torch's threads shared out between them
  (``threads`` each, default ``cores // workers``);
- ``ray`` — one Ray task per unit on the cluster at ``ray_address`` asking for
  ``ray_resources`` (retried by Ray when its worker or node dies); the rows are the same.

``from_config(cfg)`` gives the backend keywords of a stage config: ``runner`` (``local`` is
``inline`` for one worker and ``processes`` for more; ``ray``; or a backend name), ``workers``,
``threads`` and the Ray settings; ``backend_name(runner, workers)`` is the mapping alone, and
scoring picks its runner with it too. ``results_config(cfg)`` is the config without those
settings: what a stage's manifest keys its skip on (the backend changes no row). A new backend
is a file with a class taking :class:`~.backends.BackendOptions` and implementing
:class:`~.backends.Backend`, plus one line in ``BACKENDS`` (or
:func:`~.backends.register_backend` at run time).

:func:`memo` keeps one expensive object per worker process (the size search's objective,
built once per worker, not once per trial); the inline backend clears it when the run ends.
"""

from __future__ import annotations

from instructmine.execute.backends import (
    Backend,
    BackendOptions,
    backend_name,
    from_config,
    register_backend,
    results_config,
)
from instructmine.execute.engine import RunReport, UnitSource, run_units
from instructmine.execute.table import ResultsTable
from instructmine.execute.unit import Unit, UnitsFailed, memo

__all__ = [
    "Backend",
    "BackendOptions",
    "ResultsTable",
    "RunReport",
    "Unit",
    "UnitSource",
    "UnitsFailed",
    "backend_name",
    "from_config",
    "memo",
    "register_backend",
    "results_config",
    "run_units",
]
