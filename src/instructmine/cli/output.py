"""How the verbs' output behaves when it is not a terminal (a pipe, a file, a script).

Rich wraps at 80 columns when it cannot see a terminal: table cells and error lines then break
in the middle of file names. Piped output gets a wide virtual width instead, so every table row
and every message stays on one line (``grep``, ``cut`` and log readers see whole lines). A
user's own ``COLUMNS`` always wins. ``--help`` is left alone: its panels fill the width, so a
wide virtual width would pad every line of piped help with thousands of spaces.
"""

from __future__ import annotations

import os
import sys

PIPED_WIDTH = 4000


def unwrap_when_piped() -> None:
    """Give rich a wide width when stdout or stderr is not a terminal (``COLUMNS`` unset)."""
    if "COLUMNS" in os.environ or "--help" in sys.argv[1:]:
        return
    if not (_isatty(sys.stdout) and _isatty(sys.stderr)):
        os.environ["COLUMNS"] = str(PIPED_WIDTH)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def fail(message: object, code: int = 1, label: str = "error") -> Exception:
    """Print ``LABEL: MESSAGE`` to stderr as one line (never wrapped, no markup read from the
    message) and return the ``typer.Exit`` to raise: ``raise fail(e) from None``."""
    import typer
    from rich.console import Console
    from rich.text import Text

    from instructmine.cli.quiet import error_lines

    text = error_lines(message) if isinstance(message, Exception) else str(message)
    line = Text.assemble((f"{label}:", "red"), " ", text)
    Console(stderr=True).print(line, soft_wrap=True, highlight=False)
    return typer.Exit(code)
