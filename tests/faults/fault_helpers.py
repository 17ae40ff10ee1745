"""Helpers of the fault-injection suite: snapshot a folder, run the CLI under a fault (a resource
limit, a signal), and check that nothing was lost and nothing was left behind."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared_paths import REPO

CLI = [sys.executable, "-c", "from instructmine.cli import main; main()"]


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder`` (hidden ones included)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[p.relative_to(folder).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def leftovers(folder: Path) -> list[str]:
    """Temporaries (``.tmp-*``) and empty folders under ``folder``: what a fault must not leave."""
    found = [p for p in folder.rglob(".tmp-*")] + [p for p in folder.rglob(".mix-*")]
    found += [p for p in folder.rglob("*") if p.is_dir() and not any(p.iterdir())]
    return sorted(str(p.relative_to(folder)) for p in found)


def env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO / "src"), COLUMNS="200", OPENBLAS_NUM_THREADS="1")


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Cap the size of files this process writes (a full disk, in process): writes past
    ``limit`` bytes fail with ``EFBIG``. Restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


def drop_root_file_powers() -> None:
    """Make file permissions bind this process even as root: drop ``CAP_DAC_OVERRIDE`` and
    ``CAP_DAC_READ_SEARCH`` from the capability bounding set (kept off after ``exec``), so a
    ``chmod 000`` file is unreadable and a ``chmod 555`` folder unwritable, as for a user."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def permissions_bind() -> bool:
    """True when a subprocess can be made to obey file permissions (see above)."""
    if os.geteuid() != 0:
        return True
    probe = subprocess.run(
        [sys.executable, "-c", "pass"], preexec_fn=drop_root_file_powers, capture_output=True
    )
    return probe.returncode == 0


def _limits(fsize: int | None = None, address_space: int | None = None, as_user: bool = False):
    def apply() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background job may inherit SIG_IGN
        if as_user and os.geteuid() == 0:
            drop_root_file_powers()
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes then fail with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        if address_space is not None:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return apply


def run(*args, cwd: Path, fsize: int | None = None, as_user: bool = False, timeout: float = 300):
    """Run ``instructmine ARGS``; ``fsize`` caps the size of any file it writes (disk full);
    ``as_user``: file permissions bind it even when the tests run as root."""
    return subprocess.run(
        [*CLI, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env(),
        timeout=timeout,
        preexec_fn=_limits(fsize=fsize, as_user=as_user),
    )


def python(code: str, *, cwd: Path, address_space: int | None = None, timeout: float = 300):
    """Run a Python snippet on this checkout's sources, optionally under ``RLIMIT_AS``."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env(),
        timeout=timeout,
        preexec_fn=_limits(address_space=address_space),
    )


def signal_during(
    *args, cwd: Path, sig: int, delay: float, started=None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Start ``instructmine ARGS``, wait until ``started()`` (if given) and then ``delay``
    seconds, and send ``sig`` (if the process is still running). A seeded random ``delay``
    picks the point; the assertions hold at every point, so the test never depends on timing.
    """
    proc = subprocess.Popen(
        [*CLI, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env(),
        preexec_fn=_limits(),
    )
    deadline = time.monotonic() + timeout
    while started is not None and not started() and proc.poll() is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def one_line_error(stderr: str) -> str:
    """The single ``error:``/``interrupted:``/``partial input:`` line a command printed last (no
    traceback; progress lines such as training's ``step N/M`` may come before it)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("error:", "interrupted:", "partial"))]
    assert len(errors) == 1 and lines[-1] == errors[0], stderr
    assert len(errors[0]) <= 300, errors[0]
    return errors[0]
