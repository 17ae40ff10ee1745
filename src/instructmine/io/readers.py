"""Stream raw records out of files: JSON arrays, JSONL, Parquet and CSV, plain or compressed.

Formats are sniffed from the bytes (gzip/bz2/xz and Parquet magic numbers, then the first non-blank
character: ``[`` is a JSON array, ``{`` is JSONL), not trusted from the file name; CSV/TSV are
recognised by extension. Every reader yields ``(Location, value)`` pairs, where ``value`` is the
parsed record or a :class:`RecordError` saying why that record is bad, so the caller decides
whether to stop (``--strict``) or to reject and go on. Memory stays bounded: JSONL is read line
by line (a line above the size limit is skipped in 1 MB chunks, never held whole), JSON arrays
are split into records by a bounded scan (io/json_array.py: a record too deep or too large is
rejected without being held), Parquet through ``iter_batches``. A truncated
compressed file yields every complete record it holds, then a :class:`StreamBroken` saying it
was truncated; a byte that is not UTF-8 costs only the record holding it (io/streams.py).
"""

from __future__ import annotations

import contextlib
import csv
import io
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from instructmine.io.errors import IngestError, Location, RecordError
from instructmine.io.streams import COMPRESSED_SUFFIXES, compression_of, open_stream, truncation

PARQUET_MAGIC = b"PAR1"
BOM = b"\xef\xbb\xbf"
DATA_SUFFIXES = (".json", ".jsonl", ".ndjson", ".parquet", ".csv", ".tsv")
_STREAM_ERRORS = (OSError, EOFError, zlib.error)
ENCODING_ERRORS = ("strict", "replace")

Item = tuple[Location, Any]


class StreamBroken(RecordError):
    """The file cannot be read past this point (JSON array syntax error, broken gzip stream)."""


def is_data_file(path: Path) -> bool:
    """True for names a reader handles: ``.json``, ``.jsonl``, ``.ndjson``, ``.parquet``,
    ``.csv``, ``.tsv``, optionally followed by ``.gz``, ``.bz2`` or ``.xz``."""
    return _plain_name(path).endswith(DATA_SUFFIXES)


def _plain_name(path: Path) -> str:
    name = path.name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def _open(path: Path, compressed: bool) -> BinaryIO:
    return open_stream(path)[0]


def sniff(path: Path) -> tuple[str, bool]:
    """Return ``(kind, compressed)`` with kind one of ``json``, ``jsonl``, ``parquet``, ``csv``.

    Raises :class:`IngestError` for a missing, empty, binary or unrecognised file.
    """
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    with open(path, "rb") as f:
        magic = f.read(4)
    if not magic:
        raise IngestError(f"{path}: the file is empty (0 bytes): no records to read")
    if magic == PARQUET_MAGIC:
        return "parquet", False
    with open(path, "rb") as f:
        kind = compression_of(f.read(6))
    compressed = kind is not None
    with _open(path, compressed) as f:
        head = f.read(1 << 16)
        problem = truncation(f) if not head else None
    if problem:
        raise IngestError(f"{path}: cannot decompress: {problem}")
    stripped = head.removeprefix(BOM).lstrip()
    name = _plain_name(path)
    if not stripped:
        what = "empty after decompression" if compressed else "blank (only whitespace)"
        raise IngestError(f"{path}: the file is {what}: no records to read")
    if stripped[:1] == b"{":
        return "jsonl", compressed
    if _jsonl_after_first_line(stripped):  # a bad first line costs only itself
        return "jsonl", compressed
    if stripped[:1] == b"[":
        return "json", compressed
    if name.endswith((".csv", ".tsv")):
        return "csv", compressed
    if b"\x00" in head or _mostly_binary(head):
        raise IngestError(
            f"{path}: looks like binary data, not a JSON/JSONL/CSV/Parquet file "
            f"(first bytes {head[:16]!r}); check the path, or decompress it if it is an "
            "archive other than gzip, bz2 or xz"
        )
    raise IngestError(
        f"{path}: not a JSON array or JSONL file (it starts with {stripped[:40]!r}); "
        "expected '[' (JSON array) or '{' (one JSON object per line)"
    )


def _jsonl_after_first_line(head: bytes) -> bool:
    """True when the lines after the first are JSON objects, one per line (at least two, and
    most of the complete lines): a JSONL file whose first line is damaged or junk, not a JSON
    array (whose lines end in commas or hold parts of records)."""
    lines = [line.strip() for line in head.split(b"\n")[1:-1]]  # the last may be cut
    lines = [line for line in lines if line]
    objects = 0
    for line in lines:
        if line[:1] == b"{" and line[-1:] == b"}":
            with contextlib.suppress(orjson.JSONDecodeError):
                objects += isinstance(orjson.loads(line), dict)
    return objects >= 2 and objects * 2 > len(lines)


def _mostly_binary(head: bytes) -> bool:
    text = head.decode("utf-8", errors="replace")
    bad = sum(1 for c in text if c == "\ufffd" or (ord(c) < 32 and c not in "\t\n\r\f"))
    return bad > max(8, len(text) // 10)


def iter_file(
    path: Path, max_record_bytes: int, batch_rows: int = 4096, encoding_errors: str = "strict"
) -> Iterator[Item]:
    """Yield ``(Location, record or RecordError)`` for every record of one file.

    ``encoding_errors``: ``strict`` rejects a record holding bytes that are not UTF-8 (with
    the byte and the reason; every other record is kept), ``replace`` keeps it with U+FFFD in
    their place.
    """
    if encoding_errors not in ENCODING_ERRORS:
        raise IngestError(f"--encoding-errors must be one of {ENCODING_ERRORS}")
    try:
        kind, compressed = sniff(path)
    except OSError as e:  # unreadable (permissions, a link loop, an I/O error): a file error
        from instructmine.io.oserrors import describe

        raise IngestError(describe(e)) from None
    if kind == "jsonl":
        return _iter_jsonl(path, compressed, max_record_bytes, encoding_errors)
    if kind == "json":
        return _iter_json_array(path, compressed, max_record_bytes, encoding_errors)
    if kind == "csv":
        return _iter_csv(path, compressed, max_record_bytes)
    return _iter_parquet(path, batch_rows, max_record_bytes)


def _parse_error(line: bytes, err: Exception, last: bool) -> RecordError:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as u:
        return RecordError(
            f"not valid UTF-8 (byte 0x{line[u.start]:02x} at column {u.start + 1}); "
            "re-encode the file as UTF-8"
        )
    reason = f"invalid JSON: {err}"
    if last:
        reason += " (the last line has no newline: the file looks truncated)"
    return RecordError(reason)


def _iter_jsonl(path: Path, compressed: bool, max_bytes: int, errors: str) -> Iterator[Item]:
    name = str(path)
    lineno = 0
    with _open(path, compressed) as f:
        try:
            while True:
                line = f.readline(max_bytes + 1)
                if not line:
                    return
                lineno += 1
                if lineno == 1:
                    line = line.removeprefix(BOM)
                loc = Location(name, line=lineno)
                if len(line) > max_bytes and not line.endswith(b"\n"):
                    size = len(line)
                    while True:  # skip the rest of the oversized line without holding it
                        chunk = f.readline(1 << 20)
                        size += len(chunk)
                        if not chunk or chunk.endswith(b"\n"):
                            break
                    yield loc, RecordError(_too_big(size, max_bytes))
                    continue
                try:
                    yield loc, orjson.loads(line)
                except orjson.JSONDecodeError as e:
                    if not line.strip():
                        continue  # blank lines separate nothing; they are not records
                    if errors == "replace" and not _is_utf8(line):
                        try:
                            yield loc, orjson.loads(line.decode("utf-8", "replace"))
                            continue
                        except orjson.JSONDecodeError:
                            pass
                    yield loc, _parse_error(line, e, last=not line.endswith(b"\n"))
            problem = truncation(f)
            if problem:
                yield Location(name, line=lineno + 1), StreamBroken(problem)
        except _STREAM_ERRORS as e:
            yield Location(name, line=lineno + 1), StreamBroken(f"cannot read on: {e}")


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _too_big(size: int, max_bytes: int) -> str:
    return (
        f"record is {size / 1e6:.1f} MB, above the {max_bytes / 1e6:g} MB limit "
        "(raise --max-record-mb to accept it)"
    )


def _iter_json_array(
    path: Path, compressed: bool, max_bytes: int, errors: str = "strict"
) -> Iterator[Item]:
    from instructmine.io.json_array import ArrayBroken, iter_array

    name = str(path)
    count = 0
    with _open(path, compressed) as f:
        try:
            for loc, value in iter_array(f, name, max_bytes, errors):
                count = (loc.index or 0) + 1
                yield loc, value
        except ArrayBroken as e:
            problem = truncation(f)
            if problem:
                reason = f"{problem}; kept the {count} complete record(s) before it"
            else:
                reason = (
                    f"invalid JSON in the array at record {count}: {e}; the rest of the "
                    "file cannot be read (a JSON array has no line boundaries to resume at)"
                )
            yield Location(name, index=count), StreamBroken(reason)
        except _STREAM_ERRORS as e:
            yield Location(name, index=count), StreamBroken(f"cannot read on: {e}")


def _iter_csv(path: Path, compressed: bool, max_bytes: int) -> Iterator[Item]:
    name = str(path)
    limit = max(max_bytes, 1 << 20)
    csv.field_size_limit(limit)
    delimiter = "\t" if _plain_name(path).endswith(".tsv") else ","
    with _open(path, compressed) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.DictReader(text, delimiter=delimiter)
        rows = iter(reader)
        while True:
            try:
                row = next(rows, None)
            except csv.Error as e:
                if "field larger than field limit" not in str(e):
                    yield Location(name, line=reader.line_num), StreamBroken(f"cannot read on: {e}")
                    return
                # the row is dropped as it is read; the reader goes on at the next one
                loc = Location(name, line=reader.line_num)
                yield (
                    loc,
                    RecordError(
                        f"a field of this row is above the {limit / 1e6:g} MB limit "
                        "(raise --max-record-mb to accept it)"
                    ),
                )
                continue
            except _STREAM_ERRORS as e:
                yield Location(name, line=reader.line_num), StreamBroken(f"cannot read on: {e}")
                return
            if row is None:
                return
            yield Location(name, line=reader.line_num), _csv_row(row, reader.fieldnames)


def _csv_row(row: dict, header: Sequence[str] | None) -> dict | RecordError:
    """The row, or why it is bad (a field count off the header's, bytes that are not UTF-8)."""
    if None in row:
        n = len(header or [])
        return RecordError(f"row has {n + len(row[None])} fields, the header has {n}")
    bad = next((k for k, v in row.items() if v is not None and _has_surrogate(v)), None)
    if bad is not None:
        return RecordError(f"field '{bad}' is not valid UTF-8")
    return row


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _iter_parquet(path: Path, batch_rows: int, max_bytes: int) -> Iterator[Item]:
    """Rows of a Parquet file; a row larger than ``max_bytes`` (as JSON) is rejected, and a
    corrupt page ends the file with a :class:`StreamBroken` (every row before it is kept)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = str(path)
    try:
        pf = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises ArrowInvalid / OSError for corrupt files
        raise IngestError(f"{path}: not a readable Parquet file ({e})") from e
    index = 0
    # one row group at a time: a corrupt one ends the file after every row before it
    batches = (
        b for g in range(pf.num_row_groups) for b in pf.iter_batches(batch_rows, row_groups=[g])
    )
    while True:
        try:
            batch = next(batches, None)
        except (OSError, pa.ArrowException) as e:  # a corrupt page (ZSTD/snappy, bad header)
            detail = " ".join(str(e).split())[:200]
            yield Location(name, index=index), StreamBroken(f"cannot read on: {detail}")
            return
        if batch is None:
            return
        big = batch.nbytes > max_bytes  # only then is any row's size worth measuring
        for row in batch.to_pylist():
            loc = Location(name, index=index)
            index += 1
            if big and len(orjson.dumps(row, default=str)) > max_bytes:
                yield loc, RecordError(_too_big(len(orjson.dumps(row, default=str)), max_bytes))
                continue
            yield loc, row
