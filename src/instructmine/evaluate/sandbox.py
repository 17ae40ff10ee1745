"""Run untrusted (model-generated) Python programs in a sandbox, one process per program.

Each program runs in a fresh ``python -I`` started by :mod:`._sandbox_boot`, with:

- **namespaces** (when ``unshare`` works here, normally as root on Linux): a new network
  namespace (no interfaces up, so no network at all, loopback included), a new PID namespace
  (killing its first process kills every process the program started, fork bombs included) and
  a private mount namespace in which every mount is read-only except fresh size-limited tmpfs
  over ``/tmp``, ``/var/tmp``, ``/run/lock`` and ``/dev/shm``;
- an **unprivileged uid/gid** per running program (unique within this process and offset by
  its PID across processes), so process-count limits and clean-up are per program;
- **resource limits**: CPU seconds, address space, file size, process count, no core dumps;
- a **wall-clock timeout** after which the whole process group (and the PID namespace) is
  killed with SIGKILL;
- an **empty scratch working directory**, a **scrubbed environment** (nothing inherited), and
  stdin from ``/dev/null``.

Without namespaces (non-root, other OS) the bootstrap falls back to an audit hook that blocks
sockets, process spawning and writes outside the scratch directory; :attr:`Sandbox.isolation`
says which mode is in use, and results carry it as provenance.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

BOOT = Path(__file__).with_name("_sandbox_boot.py")
UNSHARE = ("unshare", "--net", "--pid", "--fork", "--mount", "--mount-proc", "--kill-child")


class SandboxConfig(BaseModel):
    """Limits for one sandboxed program."""

    model_config = ConfigDict(extra="forbid")

    timeout: float = Field(10.0, gt=0, description="wall-clock seconds before the kill")
    cpu_seconds: int = Field(10, gt=0)
    memory_mb: int = Field(1024, gt=64, description="address-space limit per process")
    file_size_mb: int = Field(16, gt=0, description="largest file the program may write")
    max_processes: int = Field(16, gt=0, description="RLIMIT_NPROC for the sandbox uid")
    tmpfs_mb: int = Field(64, gt=0, description="size of the scratch tmpfs (namespace mode)")
    uid_base: int = Field(
        61000, gt=0, description="sandbox uids: uid_base + (pid % 1000) * 32 + slot (as root)"
    )
    output_chars: int = Field(2000, gt=0, description="stdout/stderr kept per program")
    isolation: str = Field("auto", pattern="^(auto|namespaces|audit-hook)$")


UIDS_PER_PROCESS = 32


class _SlotPool:
    """Process-wide slot numbers, so concurrent sandboxes never share a uid."""

    def __init__(self, size: int):
        self._free: queue.Queue[int] = queue.Queue()
        for slot in range(size):
            self._free.put(slot)

    def acquire(self) -> int:
        return self._free.get()

    def release(self, slot: int) -> None:
        self._free.put(slot)


_SLOTS = _SlotPool(UIDS_PER_PROCESS)


@dataclass
class SandboxResult:
    """Outcome of one program: ``passed`` is True only for a clean exit (code 0) in time."""

    status: str  # passed | failed | timeout
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict:
        return asdict(self)


@cache
def namespaces_available() -> bool:
    """True when ``unshare`` can create net/pid/mount namespaces here (normally: as root)."""
    if shutil.which("unshare") is None or sys.platform != "linux":
        return False
    try:
        done = subprocess.run([*UNSHARE, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


class Sandbox:
    """Runs programs under :class:`SandboxConfig` limits; thread-safe, ``parallel`` at a time."""

    def __init__(self, config: SandboxConfig | None = None, parallel: int = 2):
        self.config = config or SandboxConfig()
        self.parallel = max(1, parallel)
        want = self.config.isolation
        if want == "namespaces" and not namespaces_available():
            raise RuntimeError(
                "sandbox isolation 'namespaces' requested but `unshare --net --pid --mount` "
                "does not work here (needs Linux and root or user namespaces); use 'auto'"
            )
        use_ns = want == "namespaces" or (want == "auto" and namespaces_available())
        self.isolation = "namespaces" if use_ns else "audit-hook"

    def describe(self) -> dict:
        """Provenance: isolation mode and limits."""
        return {
            **self.config.model_dump(),
            "requested_isolation": self.config.isolation,
            "isolation": self.isolation,
            "parallel": self.parallel,
        }

    def run(self, program: str) -> SandboxResult:
        """Run one program to completion (or until killed) and report how it ended."""
        slot = _SLOTS.acquire()
        try:
            return self._run(program, slot)
        finally:
            _SLOTS.release(slot)

    def run_many(
        self, programs: Sequence[str], on_done: Callable[[int, SandboxResult], None] | None = None
    ) -> list[SandboxResult]:
        """Run programs ``parallel`` at a time; results in input order."""
        results: list[SandboxResult | None] = [None] * len(programs)

        def one(i: int) -> None:
            results[i] = self.run(programs[i])
            if on_done is not None:
                on_done(i, results[i])

        with ThreadPoolExecutor(self.parallel) as pool:
            for fut in [pool.submit(one, i) for i in range(len(programs))]:
                fut.result()
        return results  # type: ignore[return-value]

    def _run(self, program: str, slot: int) -> SandboxResult:
        cfg = self.config
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
        # the audit-hook fallback keeps the uid: it runs in this interpreter, whose install
        # prefix an unprivileged uid may be unable to read (it cannot be re-exposed there)
        ns = self.isolation == "namespaces"
        uid = (
            cfg.uid_base + (os.getpid() % 1000) * UIDS_PER_PROCESS + slot
            if is_root and ns
            else None
        )
        payload = {
            "program": program,
            "namespaces": self.isolation == "namespaces",
            "uid": uid,
            "gid": uid,
            "cpu_seconds": cfg.cpu_seconds,
            "memory_mb": cfg.memory_mb,
            "file_size_mb": cfg.file_size_mb,
            "max_processes": cfg.max_processes,
            "tmpfs_mb": cfg.tmpfs_mb,
            # the base interpreter (stdlib only): a venv's folder may not be readable by the uid
            "python": os.path.realpath(getattr(sys, "_base_executable", sys.executable)),
            "python_prefix": os.path.realpath(sys.base_prefix),
        }
        cmd = [sys.executable, "-I", "-B", str(BOOT)]
        if self.isolation == "namespaces":
            cmd = [*UNSHARE, "--", *cmd]
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="im-sandbox-io-") as io_dir:
            out_path, err_path = Path(io_dir, "out"), Path(io_dir, "err")
            with open(out_path, "wb") as out, open(err_path, "wb") as err:
                proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.PIPE,
                    stdout=out,
                    stderr=err,
                    env=env,
                    cwd=io_dir,
                    start_new_session=True,
                )
                timed_out = False
                try:
                    proc.communicate(json.dumps(payload).encode(), timeout=cfg.timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                finally:
                    _kill_group(proc.pid)
                    proc.wait()
                    if uid is not None:
                        _reap_uid(uid)
            stdout = _tail(out_path, cfg.output_chars)
            stderr = _tail(err_path, cfg.output_chars)
        seconds = time.monotonic() - start
        status = "timeout" if timed_out else "passed" if proc.returncode == 0 else "failed"
        return SandboxResult(
            status, None if timed_out else proc.returncode, stdout, stderr, seconds
        )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _uid_pids(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    pids.append(int(entry))
            except OSError:
                continue
    return pids


def _reap_uid(uid: int, patience: float = 10.0) -> None:
    """Wait until no process of the sandbox uid is left, SIGKILLing stragglers.

    Killing the PID namespace's first process makes the kernel kill the rest, asynchronously;
    this waits for that, so a finished run leaves nothing behind.
    """
    deadline = time.monotonic() + patience
    while pids := _uid_pids(uid):
        if time.monotonic() > deadline:
            raise RuntimeError(f"sandbox processes of uid {uid} survive SIGKILL: {pids[:10]}")
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)


def _tail(path: Path, chars: int) -> str:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 4 * chars))
        return fh.read().decode("utf-8", "replace")[-chars:]
