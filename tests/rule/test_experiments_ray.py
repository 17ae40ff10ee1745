"""Proxy experiments as Ray tasks on the two-node loopback cluster: the same table as a local
run, and a worker killed mid-experiment is retried with nothing lost or duplicated."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from instructmine.rule.experiments import run_experiments
from instructmine.rule.experiments_config import load_config
from instructmine.rule.experiments_table import read_rows


def _comparable(rows: list[dict]) -> list[dict]:
    """Rows by experiment id, without the wall-clock seconds."""
    return sorted(
        ({k: v for k, v in r.items() if k != "seconds"} for r in rows),
        key=lambda r: r["experiment_id"],
    )


def _cluster_pids(cluster) -> set[int]:
    import psutil

    pids = set()
    for root in (cluster.head.pid, cluster.worker.pid):
        pids |= {p.pid for p in psutil.Process(root).children(recursive=True)}
    return pids


def test_ray_table_equals_local_and_a_killed_worker_is_retried(ray_cluster, experiments_yaml):
    local = load_config(experiments_yaml)
    run_experiments(local, progress=False)
    base = Path(local.work_dir).parent
    cfg = local.model_copy(
        update={
            "out": base / "ray.jsonl",
            "work_dir": base / "ray-work",
            "runner": "ray",
            "ray_address": ray_cluster.address,
        }
    )
    claims = Path(cfg.work_dir) / "claims"
    killed: list[tuple[str, int]] = []

    def kill_one_running_experiment() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            for note in claims.glob("*.ray"):
                parts = note.read_text().split()
                if len(parts) == 3 and int(parts[1]) in _cluster_pids(ray_cluster):
                    import psutil

                    psutil.Process(int(parts[1])).send_signal(signal.SIGKILL)
                    killed.append((parts[2], int(parts[1])))
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_running_experiment)
    killer.start()
    summary = run_experiments(cfg, progress=False)
    killer.join()
    assert killed, "no running experiment was seen on the cluster"
    eid, pid = killed[0]
    # the killed experiment ran again in another worker process: it had not finished
    assert int((claims / f"{eid}.ray").read_text().split()[1]) != pid
    rows = read_rows(cfg.out)
    assert summary.ran == summary.total == len(rows) == 5
    assert _comparable(rows) == _comparable(read_rows(local.out))
    again = run_experiments(cfg, progress=False)
    assert again.ran == 0 and len(read_rows(cfg.out)) == 5
