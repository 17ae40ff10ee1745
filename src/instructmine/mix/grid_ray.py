"""Mixture-grid units as Ray tasks: one task per pending (mixture, seed), rows into the same
results table as a local run.

The driver builds every mixture pool first (on a path every node reaches), then submits the
unit for each (mixture, seed) not yet in ``OUT/results.jsonl`` with the grid's
``ray_resources``; each row is appended as its task finishes, so a killed driver loses only
unfinished units. A task whose worker or node dies is retried by Ray
(``ray_resources.max_retries``).
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


def run_units_on_ray(
    cfg: GridConfig,
    unit: Callable[[UnitInput], Mapping[str, Any]],
    pending: list[UnitInput],
    table: Path,
) -> int:
    """Run ``unit`` on every input of ``pending`` as Ray tasks; return how many finished.

    Raises ``RuntimeError`` naming the failed mixtures after the others are recorded.
    """
    from instructmine.cluster import connect
    from instructmine.runners.collect import collect_finished, finished_refs

    if not pending:
        return 0
    with connect(cfg.ray_address) as ray:
        task = ray.remote(call_unit).options(**cfg.ray_resources.remote_options())
        refs = {task.remote(unit, inp): inp for inp in pending}
        return collect_finished(
            finished_refs(ray, refs),
            lambda inp, results: append_result(table, result_row(cfg, inp, results)),
            name=unit_name,
            what="mixture unit(s) failed on Ray",
            table=table,
        )
