"""Paths every test area uses: the repository, its fixtures, and the shared data sets."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()
FIXTURES = REPO / "tests" / "fixtures"


def shared_data_or_skip() -> Path:
    """Return ``../shared/data`` or skip the test with the reason it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"integration data not found at {SHARED_DATA} (present in the project's CI)")
    return SHARED_DATA


def run_cli(*args, cwd=None, env=None, timeout=300):
    """Run ``instructmine ARGS`` in a real subprocess on this checkout's sources."""
    import os
    import subprocess
    import sys

    base = dict(os.environ, PYTHONPATH=str(REPO / "src"), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-c", "from instructmine.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**base, **(env or {})},
        timeout=timeout,
    )


def default_sigint() -> None:
    """``preexec_fn`` giving a child Python its own SIGINT handling: a job started in the
    background by a non-interactive shell (``cmd &``, some CI runners) inherits SIGINT ignored,
    and Python then installs no KeyboardInterrupt handler, as it should for such a job."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def tiny_proxy(model_dir) -> dict:
    """Proxy settings (``ProxyConfig``) for a tiny model built in a test: one cached layer,
    three steps, short sequences, six eval records, one thread."""
    return {
        "model": str(model_dir),
        "cached_layers": 1,
        "steps": 3,
        "batch_size": 4,
        "max_length": 64,
        "eval_max_records": 6,
        "lr": 1e-3,
        "threads": 1,
    }
