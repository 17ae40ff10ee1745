"""Proxy experiments as Ray tasks: one task per pending experiment, rows into the same table.

The driver reads the specs :func:`~instructmine.rule.experiments.prepare` wrote, leaves out
every experiment already in the table, and submits :func:`run_experiment` for the rest as Ray
tasks with the config's ``ray_resources``. Each row is appended to the table by the driver as
its task finishes (the table needs no shared file system; the trunk cache and pools do). A task
whose worker or node dies is retried by Ray (``ray_resources.max_retries``); a killed driver
loses only unfinished experiments, which the next run submits again.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from instructmine.rule.experiments import run_experiment
from instructmine.rule.experiments_config import ExperimentsConfig
from instructmine.rule.experiments_table import append_row, read_rows


def _task(spec: dict[str, Any], proxy: dict[str, Any], trunk_path: str, claims: str) -> dict:
    """One experiment on a Ray worker; notes who runs it in ``claims/<id>.ray`` for operators."""
    note = Path(claims) / f"{spec['experiment_id']}.ray"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text(f"{socket.gethostname()} {os.getpid()} {spec['experiment_id']}\n")
    return run_experiment(spec, proxy, trunk_path)


def run_on_ray(specs_path: Path | str, cfg: ExperimentsConfig, trunk_path: str) -> int:
    """Run every experiment of ``specs_path`` not yet in ``cfg.out`` on Ray; return how many ran.

    Raises ``RuntimeError`` naming the failed experiments after the others have finished and
    been recorded (a re-run resumes from there).
    """
    from rich.console import Console

    from instructmine.cluster import connect
    from instructmine.runners.collect import collect_finished, finished_refs

    console = Console(stderr=True)
    finished = {r["experiment_id"] for r in read_rows(cfg.out)}
    specs = [json.loads(line) for line in Path(specs_path).read_text("utf-8").splitlines()]
    pending = [s for s in specs if s["experiment_id"] not in finished]
    if not pending:
        return 0
    proxy = cfg.proxy.model_dump()
    claims = str(Path(cfg.work_dir) / "claims")

    def record(eid: str, row: dict) -> None:
        append_row(cfg.out, row)
        console.print(
            f"[ray] {eid}: eval loss {row['eval_loss']:.4f} "
            f"(base {row['base_eval_loss']:.4f}) in {row['seconds']:.0f} s"
        )

    with connect(cfg.ray_address) as ray:
        task = ray.remote(_task).options(**cfg.ray_resources.remote_options())
        refs = {task.remote(s, proxy, trunk_path, claims): s["experiment_id"] for s in pending}
        return collect_finished(
            finished_refs(ray, refs),
            record,
            name=str,
            what="experiment(s) failed on Ray",
            table=cfg.out,
        )
