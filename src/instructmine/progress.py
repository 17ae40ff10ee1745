"""Progress bars: the one place every stage makes them.

Bars go to stderr only (stdout carries a verb's results and ``--json``), and there are none
when stderr is not a terminal, so logs and pipes get no bar lines.
"""

from __future__ import annotations

from typing import Any

SECTION_WIDTH = 100  # a section rule is never wider, piped (a 4000-column console) or not


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


def section(console: Any, title: str = "") -> None:
    """A rule with ``title`` between the steps of a long run, at most :data:`SECTION_WIDTH`
    columns wide (``console.rule`` is as wide as the console: 4000 columns when piped)."""
    from rich.rule import Rule

    console.print(Rule(title), width=min(console.width, SECTION_WIDTH))
