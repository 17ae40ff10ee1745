"""Ctrl-C: one line saying what was kept and what re-running does; exit status 130.

Every stage writes its outputs atomically (``atomic.py``), so an interrupted command leaves its
outputs as they were; what survives is what the stage caches as it goes (score's finished
chunks). The line comes from the verb, which knows which it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


@contextmanager
def on_interrupt(kept: Callable[[], str]) -> Iterator[None]:
    """Turn a ``KeyboardInterrupt`` in the block into ``interrupted: KEPT`` on stderr and exit
    status 130, without a traceback. ``kept`` is called only then."""
    try:
        yield
    except KeyboardInterrupt:
        from instructmine.cli.output import fail

        on_interrupt.reported = True  # main() adds no second line
        raise fail(kept(), EXIT_INTERRUPTED, label="interrupted") from None


on_interrupt.reported = False


def unreported_interrupt(code: object) -> bool:
    """True when the command exits 130 (typer's answer to a Ctrl-C) without having said what
    was kept: the Ctrl-C landed outside a verb's :func:`on_interrupt` block (while starting
    up, or while printing a finished command's summary)."""
    return code == EXIT_INTERRUPTED and not on_interrupt.reported


UNREPORTED = (
    "the command stopped before it finished or while it was printing its summary; every "
    "output is as it was or complete (re-run the same command to be sure)"
)
