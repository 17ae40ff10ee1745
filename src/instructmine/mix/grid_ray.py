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

from instructmine.mix.grid import GridConfig, UnitInput, append_result, result_row


def _run_unit(unit: Callable[[UnitInput], Mapping[str, Any]], inp: UnitInput) -> dict:
    return dict(unit(inp))


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

    if not pending:
        return 0
    ran, failed = 0, []
    with connect(cfg.ray_address) as ray:
        task = ray.remote(_run_unit).options(**cfg.ray_resources.remote_options())
        refs = {task.remote(unit, inp): inp for inp in pending}
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            for ref in ready:
                inp = refs.pop(ref)
                try:
                    results = ray.get(ref)
                except Exception as err:  # reported with the mixture's name below
                    failed.append(f"{inp.mixture.name} seed {inp.seed}: {err}")
                    continue
                append_result(table, result_row(cfg, inp, results))
                ran += 1
    if failed:
        raise RuntimeError(
            f"{len(failed)} mixture unit(s) failed on Ray (finished ones are in {table}; fix "
            "and run again to resume): " + "; ".join(failed)
        )
    return ran
