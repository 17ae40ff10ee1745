"""Errors and reject records of ingestion: every problem names its file and line or index."""

from __future__ import annotations

from dataclasses import dataclass


class IngestError(RuntimeError):
    """A source cannot be read at all (missing, empty, binary, undetectable format), or a
    record is bad while ``strict`` is on. The message names the file and line/index."""


class RecordError(ValueError):
    """One record is bad; the reader or adapter raises it with a human-readable reason."""


@dataclass(frozen=True)
class Location:
    """Where a record lives: ``line`` (1-based) for line formats, ``index`` (0-based) for
    arrays, Parquet rows, datasets folders and hub streams."""

    file: str
    line: int | None = None
    index: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}"
        if self.index is not None:
            return f"{self.file}[{self.index}]"
        return self.file


@dataclass(frozen=True)
class Reject:
    """A rejected record (or an unreadable file, when ``line`` and ``index`` are both None)."""

    source: str
    location: Location
    reason: str
    excerpt: str | None = None

    def message(self) -> str:
        """One line naming where and why, as printed under ``--strict``."""
        where = str(self.location)
        kind = "record" if self.location.line is not None or self.location.index is not None else ""
        return f"{where}: {kind + ': ' if kind else ''}{self.reason}"

    def to_dict(self) -> dict:
        """JSON-ready form written to the rejects side file."""
        return {
            "source": self.source,
            "file": self.location.file,
            "line": self.location.line,
            "index": self.location.index,
            "reason": self.reason,
            "excerpt": self.excerpt,
        }


def excerpt(raw: bytes | str | object, limit: int = 300) -> str:
    """A short printable excerpt of a bad record for the rejects file."""
    if isinstance(raw, bytes):
        text = raw[: limit * 4].decode("utf-8", errors="backslashreplace")
    else:
        text = raw if isinstance(raw, str) else repr(raw)
    text = text[: limit + 1]
    return text if len(text) <= limit else text[:limit] + "…"
