"""A test server in a subprocess on loopback: a free port, waiting until it is up, stopping it.

Used by the moto S3 server (``s3_server.py``), the llama.cpp chat server
(``evaluate/test_eval_chat_server.py``) and the Ray test cluster (``ray_cluster.py``).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(
    port: int,
    proc: subprocess.Popen,
    log: Path,
    *,
    name: str,
    timeout: float,
    ready: Callable[[], bool] | None = None,
    interval: float = 0.1,
) -> None:
    """Poll until ``proc`` listens on 127.0.0.1:``port`` (and ``ready()`` holds, if given).

    Raises ``RuntimeError`` with the tail of the server's ``log`` when ``proc`` exits first or
    ``timeout`` seconds pass; ``name`` says which server in the message.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text()[-2000:]}")
        if port_open(port) and (ready is None or ready()):
            return
        time.sleep(interval)
    raise RuntimeError(
        f"{name} did not come up on port {port} in {timeout:.0f} s: {log.read_text()[-2000:]}"
    )


def stop(proc: subprocess.Popen) -> None:
    """Terminate ``proc``; kill it if it is still running 10 s later."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
