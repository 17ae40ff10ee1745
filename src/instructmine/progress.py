"""Progress bars: the one place every stage makes them.

Bars go to stderr only (stdout carries a verb's results and ``--json``), and there are none
when stderr is not a terminal, so logs and pipes get no bar lines.
"""

from __future__ import annotations

from typing import Any


def progress_bars(*columns: Any, enabled: bool = True, transient: bool = False) -> Any:
    """A :class:`rich.progress.Progress` on stderr; disabled (a no-op) when ``enabled`` is
    false or stderr is not a terminal. ``columns`` default to rich's own."""
    from rich.console import Console
    from rich.progress import Progress

    err = Console(stderr=True)
    return Progress(
        *columns,
        console=err,
        transient=transient,
        disable=not enabled or not err.is_terminal,
    )
