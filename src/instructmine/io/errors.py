"""Errors and reject records of ingestion: every problem names its file and line or index."""

from __future__ import annotations

from dataclasses import dataclass


class IngestError(RuntimeError):
    """A source cannot be read at all (missing, empty, binary, undetectable format), or a
    record is bad while ``strict`` is on. The message names the file and line/index."""


class PoolError(ValueError):
    """A pool file cannot be used: missing, not Parquet, not the canonical schema, or its ids are
    missing or repeated. The message names the file and says how to fix it."""


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
    """A short printable excerpt of a bad record for the rejects file (never the whole of a
    huge record: long strings are cut before anything is rendered)."""
    if isinstance(raw, bytes):
        text = raw[: limit * 4].decode("utf-8", errors="backslashreplace")
    elif isinstance(raw, str):
        text = raw[: limit + 1]
    else:
        text = repr(_shrink(raw, limit, depth=0))
    return text if len(text) <= limit else text[:limit] + "…"


def _shrink(value: object, limit: int, depth: int) -> object:
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if depth > 3:
        return "…"
    if isinstance(value, dict):
        return {k: _shrink(v, limit, depth + 1) for k, v in list(value.items())[:20]}
    if isinstance(value, list):
        return [_shrink(v, limit, depth + 1) for v in value[:20]]
    return value
