"""How the verbs' output behaves when it is not a terminal (a pipe, a file, a script).

Rich wraps at 80 columns when it cannot see a terminal: table cells and error lines then break
in the middle of file names. Piped output gets a wide virtual width instead, so every table row
and every message stays on one line (``grep``, ``cut`` and log readers see whole lines). A
user's own ``COLUMNS`` always wins. ``--help`` is left alone: its panels fill the width, so a
wide virtual width would pad every line of piped help with thousands of spaces. Rules and
separators stay narrow whatever the width (:func:`instructmine.progress.section`).
"""

from __future__ import annotations

import os
import sys

PIPED_WIDTH = 4000
ERROR_WIDTH = 300  # the longest error line printed, label included


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


def one_line(text: object, limit: int = ERROR_WIDTH) -> str:
    """``text`` on one line (runs of whitespace and newlines become one space), cut to
    ``limit`` characters with an ellipsis."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def fail(message: object, code: int = 1, label: str = "error") -> Exception:
    """Print ``LABEL: MESSAGE`` to stderr as one line of at most :data:`ERROR_WIDTH`
    characters (never wrapped, no markup read from the message) and return the
    ``typer.Exit`` to raise: ``raise fail(e) from None``. An exception is described by
    :func:`instructmine.cli.errors.describe` (settings errors name the key and the closest
    valid one)."""
    import typer
    from rich.console import Console
    from rich.text import Text

    if isinstance(message, BaseException):
        from instructmine.cli.errors import describe

        message = describe(message)
    text = one_line(f"{label}: {message}")
    line = Text.assemble((text[: len(label) + 1], "red"), text[len(label) + 1 :])
    Console(stderr=True).print(line, soft_wrap=True, highlight=False, emoji=False)
    return typer.Exit(code)


def print_json(doc: object) -> None:
    """Print ``doc`` as one JSON document on stdout (the whole of stdout under ``--json``)."""
    import json

    import typer

    typer.echo(json.dumps(doc, default=str, ensure_ascii=False))
