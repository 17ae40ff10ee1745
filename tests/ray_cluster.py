"""A real two-node Ray cluster on loopback, shared by every Ray test, stopped by its own PIDs.

The head and a worker node are ``ray start --block`` subprocesses (one CPU each, object store
capped, temp folder under a short /tmp path: Ray's socket paths must stay under 108 chars).
At the end every process of their trees is terminated by PID; ``ray stop`` is machine-wide
and never used. Each node offers one ``node_slot``, so an actor asking for one lands on each.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from server_process import free_port, port_open

REPO = Path(__file__).resolve().parents[1]
OBJECT_STORE = 200 * 1024 * 1024
LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
# No token file in the home folder (a private ray.init() writes ~/.ray/auth_token otherwise),
# no usage reporting: set for the nodes and for the driver (this process).
QUIET_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


@dataclass
class Cluster:
    """The test cluster: its head address, node processes and temp folder."""

    address: str
    head: subprocess.Popen
    worker: subprocess.Popen
    temp: Path

    def worker_processes(self, marker: str) -> list:
        """Live processes under the worker node whose command line holds ``marker``."""
        import psutil

        out = []
        for p in psutil.Process(self.worker.pid).children(recursive=True):
            try:
                if marker in " ".join(p.cmdline()):
                    out.append(p)
            except psutil.NoSuchProcess:
                continue
        return out


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    ray = str(Path(sys.executable).parent / "ray")
    common = [
        "--block",
        "--num-cpus=1",
        "--num-gpus=0",
        f"--object-store-memory={OBJECT_STORE}",
        "--disable-usage-stats",
        '--resources={"node_slot": 1}',
    ]
    with open(log, "wb") as fh:
        return subprocess.Popen([ray, "start", *args, *common], env=env, stdout=fh, stderr=fh)


def _stop(procs: list[subprocess.Popen]) -> None:
    """Terminate the node processes and every descendant of them, by PID."""
    import psutil

    tree = []
    for proc in procs:
        try:
            root = psutil.Process(proc.pid)
            tree += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    for p in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(tree, timeout=15)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(alive, timeout=10)
    for proc in procs:
        proc.wait(timeout=10)


def _alive_nodes(address: str) -> int:
    import ray

    ray.init(address=address, log_to_driver=False, include_dashboard=False)
    try:
        return sum(1 for n in ray.nodes() if n["Alive"])
    finally:
        ray.shutdown()


@pytest.fixture(scope="session")
def ray_cluster():
    """Start the head and a worker node on 127.0.0.1; yield a :class:`Cluster`; stop them."""
    temp = Path(tempfile.mkdtemp(prefix="imr-", dir="/tmp"))
    port = free_port()
    pythonpath = os.pathsep.join(
        [str(REPO / d) for d in ("src", "tests", "tests/search", "tests/mix")]
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in LOOPBACK_ENV},
        **QUIET_ENV,
        "PYTHONPATH": pythonpath,
        "OMP_WAIT_POLICY": "PASSIVE",
        "RAY_DATA_DISABLE_PROGRESS_BARS": "1",
    }
    driver_env = pytest.MonkeyPatch()  # the driver (this process) too
    for k, v in {**LOOPBACK_ENV, **QUIET_ENV}.items():
        driver_env.setenv(k, v)
    address = f"127.0.0.1:{port}"
    head = _start(
        [
            "--head",
            "--node-ip-address=127.0.0.1",
            f"--port={port}",
            f"--temp-dir={temp}",
            "--include-dashboard=false",
        ],
        env,
        temp / "head.log",
    )
    procs = [head]
    try:
        deadline = time.monotonic() + 120
        worker = None
        while True:
            assert head.poll() is None, (temp / "head.log").read_text()
            if worker is None and (temp / "head.log").stat().st_size and port_open(port):
                worker = _start(
                    [f"--address={address}", "--node-ip-address=127.0.0.1"],
                    env,
                    temp / "worker.log",
                )
                procs.append(worker)
            if worker is not None:
                assert worker.poll() is None, (temp / "worker.log").read_text()
                if _alive_nodes(address) == 2:
                    break
            assert time.monotonic() < deadline, "the Ray test cluster did not come up in 120 s"
            time.sleep(1)
        yield Cluster(address, head, worker, temp)
    finally:
        _stop(procs)
        driver_env.undo()
        shutil.rmtree(temp, ignore_errors=True)
