"""Read a JSON array record by record with bounded memory, whatever the input.

The array's bytes are split into its top-level elements by a vectorised scan (numpy over 1 MB
chunks: quotes that are not escaped open and close strings; brackets outside strings change
the depth; a comma at depth 1 ends an element), and each element is parsed on its own with
orjson. So memory holds one chunk and one record, never more: an element deeper than
:data:`MAX_DEPTH` or larger than the record size limit is skipped as it streams past (only
its size and depth are counted) and becomes a :class:`RecordError` naming its index, and
every other record is kept. (A JSON parser building the whole nesting first, as ``ijson`` did,
grows to gigabytes on a 200 KB file nested 100,000 deep.)

A syntax error stops the file there (an array has no line boundaries to resume at): every
record before it is kept and a :class:`StreamBroken` says where and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
import orjson

from instructmine.io.errors import Location, RecordError

MAX_DEPTH = 256  # nesting levels inside one record (a conversation needs 3 or 4)
CHUNK = 1 << 20
_QUOTE, _BACKSLASH, _COMMA = 34, 92, 44
_OPENS, _CLOSES = (91, 123), (93, 125)
_WHITESPACE = b" \t\r\n"


class ArrayBroken(Exception):
    """The array cannot be read on from here (its reason is the message)."""


class _Element:
    """The element being collected: its bytes (while within the limits), size and depth."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.depth = 0  # deepest nesting inside the element (0: a scalar)
        self.dropped = False  # over a limit: its bytes are no longer kept

    def add(self, data: bytes, depth: int, max_bytes: int) -> None:
        self.size += len(data)
        if depth > self.depth:
            self.depth = depth
        if self.dropped:
            return
        if self.size > max_bytes or self.depth > MAX_DEPTH:
            self.dropped, self.parts = True, []
            return
        self.parts.append(data)


class _Scanner:
    """Split a JSON array's byte stream into elements (carrying state across chunks).

    Only the positions of quotes and of the five structural bytes ``[ ] { } ,`` are looked
    at (found with numpy); whether one is inside a string is the parity of the unescaped
    quotes before it.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.in_string = False
        self.trailing_backslashes = 0
        self.depth = 0  # 0: before '[' or after ']'; 1: between the array's elements
        self.started = False
        self.ended = False
        self.element = _Element()
        self.separators = 0  # commas seen at depth 1

    def feed(self, chunk: bytes) -> Iterator[_Element]:
        """The elements completed by ``chunk``."""
        if self.ended:
            if chunk.strip(_WHITESPACE):
                raise ArrayBroken("data after the end of the array")
            return
        a = np.frombuffer(chunk, dtype=np.uint8)
        real = self._real_quotes(chunk, np.flatnonzero(a == _QUOTE))
        cand = np.flatnonzero(
            (a == _COMMA)
            | (a == _OPENS[0])
            | (a == _OPENS[1])
            | (a == _CLOSES[0])
            | (a == _CLOSES[1])
        )
        inside = (np.searchsorted(real, cand, side="right") & 1).astype(bool) ^ self.in_string
        pos = cand[~inside]
        ch = a[pos]
        opens = (ch == _OPENS[0]) | (ch == _OPENS[1])
        closes = (ch == _CLOSES[0]) | (ch == _CLOSES[1])
        depth = self.depth + np.cumsum(opens.astype(np.int64) - closes.astype(np.int64))
        cut = ((ch == _COMMA) | opens) & (depth == 1) | closes & (depth == 0)
        # per-element depths are looked at only in a chunk that goes too deep somewhere
        deep = bool(len(depth)) and int(depth.max()) > MAX_DEPTH + 1
        self.in_string ^= bool(len(real) % 2)
        self.trailing_backslashes = _trailing_backslashes(chunk, self.trailing_backslashes)
        start, k0, at_depth = 0, 0, self.depth
        for k in np.flatnonzero(cut).tolist():
            where = int(pos[k])
            self._take(chunk, start, where, depth[k0:k] if deep else None, at_depth)
            if opens[k]:  # the array's '[' (only whitespace may come before it)
                if self.started:
                    raise ArrayBroken("a JSON array holds one top-level value")
                self.started = True
            elif ch[k] == _COMMA:
                self.separators += 1
                yield self._finish(last=False)
            else:  # the closing ']'
                if not self.started:
                    raise ArrayBroken("']' before the array began")
                done = self._finish(last=True)
                if done is not None:
                    yield done
                self.ended = True
                if chunk[where + 1 :].strip(_WHITESPACE):
                    raise ArrayBroken("data after the end of the array")
                self.depth = 0
                return
            start, k0, at_depth = where + 1, k + 1, int(depth[k])
        self._take(chunk, start, len(chunk), depth[k0:] if deep else None, at_depth)
        if len(depth):
            self.depth = int(depth[-1])
        if self.depth < 0:
            raise ArrayBroken("more closing brackets than opening ones")

    def _real_quotes(self, chunk: bytes, quotes: np.ndarray) -> np.ndarray:
        """The quotes that are not escaped (an odd run of backslashes before one escapes it;
        such quotes are rare, so they are checked one by one)."""
        if not len(quotes):
            return quotes
        a = np.frombuffer(chunk, dtype=np.uint8)
        after_backslash = a[np.maximum(quotes - 1, 0)] == _BACKSLASH
        after_backslash[quotes == 0] = self.trailing_backslashes > 0
        maybe = np.flatnonzero(after_backslash).tolist()
        if not maybe:
            return quotes
        keep = np.ones(len(quotes), dtype=bool)
        for i in maybe:
            q = int(quotes[i])
            j = q - 1
            while j >= 0 and chunk[j] == _BACKSLASH:
                j -= 1
            run = q - 1 - j
            if run == q:  # the run reaches back into the previous chunk
                run += self.trailing_backslashes
            keep[i] = run % 2 == 0
        return quotes[keep]

    def _take(self, chunk: bytes, start: int, end: int, depth: np.ndarray | None, at: int) -> None:
        """Add ``chunk[start:end]`` to the element; ``depth``: the depths after its structural
        bytes (None: all within the limit), ``at``: the depth where it starts."""
        if end <= start:
            return
        if not self.started:
            if chunk[start:end].strip(_WHITESPACE):
                raise ArrayBroken("the file does not start with a JSON array")
            return
        deepest = 0 if depth is None else max(int(depth.max()) if len(depth) else at, at) - 1
        self.element.add(chunk[start:end], deepest, self.max_bytes)

    def _finish(self, last: bool) -> _Element | None:
        done, self.element = self.element, _Element()
        empty = not done.dropped and not b"".join(done.parts).strip(_WHITESPACE)
        if last and self.separators == 0 and empty:
            return None  # "[]": no element at all
        return done


def _trailing_backslashes(chunk: bytes, carried: int) -> int:
    """Backslashes at the end of ``chunk`` (plus ``carried`` when the chunk is all of them)."""
    run = len(chunk) - len(chunk.rstrip(b"\\"))
    return run + carried if run == len(chunk) else run


def iter_array(
    stream: BinaryIO, name: str, max_bytes: int, errors: str = "strict"
) -> Iterator[tuple[Location, object]]:
    """``(Location, record or RecordError)`` for every element of the JSON array in
    ``stream``. A syntax error (or bytes the scan cannot place) raises :class:`ArrayBroken`
    after the records before it were yielded."""
    scanner = _Scanner(max_bytes)
    index = 0
    first = True
    while True:
        chunk = stream.read(CHUNK)
        if first:
            chunk = chunk.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark is not data
            first = False
        if not chunk:
            break
        for element in scanner.feed(chunk):
            yield Location(name, index=index), _parse(element, max_bytes, errors)
            index += 1
    if not scanner.ended:
        raise ArrayBroken(f"the array is not closed: the file ends inside record {index}")


def _parse(element: _Element, max_bytes: int, errors: str) -> object:
    if element.size > max_bytes:
        return RecordError(
            f"record is {element.size:,} bytes, above the {max_bytes / 1e6:g} MB limit "
            "(raise --max-record-mb to accept it); it was skipped unread"
        )
    if element.depth > MAX_DEPTH:
        return RecordError(
            f"record is nested more than {MAX_DEPTH} levels deep ({element.depth} or more); "
            "no instruction record needs that: it was skipped unread"
        )
    data = b"".join(element.parts)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    bad = _bad_utf8(data)
    if bad and errors == "strict":
        return RecordError(
            f"not valid UTF-8 ({len(bad)} byte(s), the first 0x{bad[0]:02x}); "
            "re-encode the file as UTF-8, or pass --encoding-errors replace"
        )
    text = data.decode("utf-8", "replace") if bad else data.decode("utf-8")
    try:
        return json.loads(text)  # what orjson refuses but JSON allows (integers > 64 bits)
    except (ValueError, RecursionError) as e:
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ArrayBroken(f"invalid JSON: {detail}") from None


def _bad_utf8(data: bytes) -> list[int]:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "surrogateescape")
        return [ord(c) - 0xDC00 for c in text if "\udc80" <= c <= "\udcff"]
    return []
