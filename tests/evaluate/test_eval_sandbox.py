"""The sandbox stops hostile programs, scores them as failures, and leaves the machine alone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading

import pytest

from instructmine.evaluate.sandbox import (
    UIDS_PER_PROCESS,
    Sandbox,
    SandboxConfig,
    namespaces_available,
)

MODES = [
    pytest.param(
        "namespaces",
        marks=pytest.mark.skipif(not namespaces_available(), reason="unshare not permitted here"),
    ),
    "audit-hook",
]


def _sandbox(mode: str, **kw) -> Sandbox:
    cfg = {"timeout": 3.0, "cpu_seconds": 3, "memory_mb": 512, **kw}
    return Sandbox(SandboxConfig(isolation=mode, **cfg), parallel=1)


def _sandbox_processes(uid_base: int) -> list[int]:
    """PIDs of processes that belong to a sandbox uid (should be none after a run)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                uid = os.stat(f"/proc/{entry}").st_uid
            except FileNotFoundError:
                continue
            if uid_base <= uid < uid_base + 1000 * UIDS_PER_PROCESS:
                pids.append(int(entry))
    return pids


@pytest.mark.parametrize("mode", MODES)
def test_correct_program_passes_and_wrong_one_fails(mode):
    sb = _sandbox(mode)
    ok = sb.run("def f(x):\n    return x + 1\nassert f(1) == 2\nprint('fine')\n")
    assert ok.passed, ok.stderr
    assert "fine" in ok.stdout
    bad = sb.run("def f(x):\n    return x - 1\nassert f(1) == 2\n")
    assert bad.status == "failed" and "AssertionError" in bad.stderr


@pytest.mark.parametrize("mode", MODES)
def test_infinite_loop_is_killed(mode):
    res = _sandbox(mode, timeout=2.0).run("while True:\n    pass\n")
    assert not res.passed
    assert res.status in ("timeout", "failed")  # wall-clock kill or RLIMIT_CPU's SIGXCPU


@pytest.mark.parametrize("mode", MODES)
def test_fork_bomb_is_contained(mode):
    program = textwrap.dedent(
        """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """
    )
    sb = _sandbox(mode, timeout=2.0, max_processes=16)
    res = sb.run(program)
    assert not res.passed
    assert _sandbox_processes(sb.config.uid_base) == []


@pytest.mark.parametrize("mode", MODES)
def test_huge_allocation_fails(mode):
    res = _sandbox(mode).run("x = bytearray(50 * 1024**3)\nprint(len(x))\n")
    assert res.status == "failed"
    assert "MemoryError" in res.stderr


@pytest.mark.parametrize("mode", MODES)
def test_cannot_write_or_delete_outside_scratch(mode, tmp_path):
    outside = tmp_path / "open"
    outside.mkdir()
    outside.chmod(0o777)  # world-writable: only the sandbox stands in the way
    canary = outside / "canary.txt"
    canary.write_text("alive")
    canary.chmod(0o666)
    target = outside / "written.txt"
    sb = _sandbox(mode)
    wrote = sb.run(f"open({str(target)!r}, 'w').write('pwned')\n")
    deleted = sb.run(f"import os\nos.remove({str(canary)!r})\n")
    assert wrote.status == "failed" and deleted.status == "failed"
    assert not target.exists()
    assert canary.read_text() == "alive"
    # control: the same deletion outside the sandbox does remove a file
    control = outside / "control.txt"
    control.write_text("x")
    subprocess.run([sys.executable, "-c", f"import os; os.remove({str(control)!r})"], check=True)
    assert not control.exists()


@pytest.mark.parametrize("mode", MODES)
def test_no_network_even_to_loopback(mode):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    connections: list = []

    def accept_loop(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                connections.append(server.accept()[0])
            except TimeoutError:
                continue

    stop = threading.Event()
    thread = threading.Thread(target=accept_loop, args=(stop,), daemon=True)
    thread.start()
    program = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
    try:
        res = _sandbox(mode).run(program)
        assert res.status == "failed"
        assert connections == []
        # control: unsandboxed, the same program does reach the listener
        subprocess.run([sys.executable, "-c", program], check=True, timeout=10)
        for _ in range(20):
            if connections:
                break
            threading.Event().wait(0.1)
        assert len(connections) == 1
    finally:
        stop.set()
        thread.join()
        for c in connections:
            c.close()
        server.close()


@pytest.mark.parametrize("mode", MODES)
def test_environment_secrets_are_not_visible(mode, monkeypatch):
    secret = "im-test-secret-4c1f9a"
    monkeypatch.setenv("INSTRUCTMINE_TEST_SECRET", secret)
    program = textwrap.dedent(
        """
        import os, glob
        found = [v for v in os.environ.values() if v.startswith("im-test-secret")]
        found += [v for k, v in os.environ.items() if "SECRET" in k]
        for path in glob.glob("/proc/*/environ"):
            try:
                found += [path] if b"im-test-secret" in open(path, "rb").read() else []
            except OSError:
                pass
        print(found)
        assert found, "no secret found"
        """
    )
    # a process started with the secret in its initial environment (visible in /proc to root)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        env={**os.environ, "INSTRUCTMINE_TEST_SECRET": secret},
    )
    try:
        res = _sandbox(mode).run(program)
        # control: unsandboxed, the same program finds the secret
        control = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    finally:
        holder.kill()
        holder.wait()
    assert res.status == "failed"
    assert secret not in res.stdout + res.stderr
    assert control.returncode == 0 and secret in control.stdout
