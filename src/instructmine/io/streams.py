"""Byte streams of data files: plain, gzip, bz2 or xz, and a UTF-8 guard for JSON arrays.

A compressed file is decompressed chunk by chunk with the codec's own decompressor object, so a
truncated file yields every byte it holds (``gzip.open`` raises ``EOFError`` and loses the
buffer it was filling) and :attr:`Decompressed.truncated` says the stream ended early.

:class:`Utf8Guard` sits between a byte stream and a JSON parser: each byte that is not valid
UTF-8 becomes a private-use code point (U+10FF80-U+10FFFF) instead of stopping the parser, so
the record holding it can be rejected (or repaired) on its own and every other record is kept.
"""

from __future__ import annotations

import bz2
import codecs
import io
import lzma
import zlib
from pathlib import Path
from typing import BinaryIO

MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")
_CHUNK = 1 << 16
_MARK_BASE = 0x10FF00  # byte b (0x80-0xff) that is not valid UTF-8 -> chr(_MARK_BASE + b)
_ERRORS = "instructmine-mark-bad-bytes"


def compression_of(head: bytes) -> str | None:
    """``gzip``, ``bz2``, ``xz`` or None, from a file's first bytes."""
    for magic, name in MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def _decompressor(kind: str):
    if kind == "gzip":
        return zlib.decompressobj(wbits=47)  # gzip or zlib header
    if kind == "bz2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor()


class Decompressed(io.RawIOBase):
    """A readable stream of a compressed file's content that survives truncation.

    Concatenated members (``cat a.gz b.gz``) are read in turn. Corrupt data past the start ends
    the stream at the last good byte with :attr:`truncated` set and :attr:`problem` saying why.
    """

    def __init__(self, path: Path, kind: str):
        self._f = open(path, "rb")  # noqa: SIM115
        self._kind = kind
        self._d = _decompressor(kind)
        self._buf = b""
        self._done = False
        self.truncated = False
        self.problem: str | None = None

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while not self._buf and not self._done:
            if self._d.eof:
                rest = self._d.unused_data
                if not rest:
                    rest = self._f.read(_CHUNK)
                if not rest.strip(b"\x00"):
                    self._done = True  # end of the last member (zero padding is allowed)
                    return
                self._d = _decompressor(self._kind)
                data = rest
            else:
                data = self._f.read(_CHUNK)
                if not data:
                    self._done = True
                    self.truncated = True
                    self.problem = f"the {self._kind} stream ends early (the file is truncated)"
                    return
            try:
                self._buf = self._d.decompress(data)
            except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as e:
                self._done = True
                self.truncated = True
                self.problem = f"the {self._kind} data is corrupt ({e}); read up to there"

    def readinto(self, b) -> int:
        self._fill()
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


def open_stream(path: Path) -> tuple[BinaryIO, str | None]:
    """Open ``path`` for reading its content; return ``(stream, compression or None)``.

    The stream of a compressed file is a :class:`Decompressed` (buffered): after reading it,
    ``stream.raw.truncated`` says whether the file ended early.
    """
    with open(path, "rb") as f:
        kind = compression_of(f.read(6))
    if kind is None:
        return open(path, "rb"), None
    return io.BufferedReader(Decompressed(path, kind), _CHUNK), kind


def truncation(stream: BinaryIO) -> str | None:
    """Why a stream from :func:`open_stream` ended early, or None when it was read whole."""
    raw = getattr(stream, "raw", None)
    return raw.problem if isinstance(raw, Decompressed) and raw.truncated else None


def _mark(err: UnicodeDecodeError) -> tuple[str, int]:
    bad = err.object[err.start : err.end]
    return "".join(chr(_MARK_BASE + b) for b in bad), err.end


codecs.register_error(_ERRORS, _mark)


class Utf8Guard(io.RawIOBase):
    """Bytes in, the same bytes out, except that invalid UTF-8 becomes marker code points.

    :attr:`bad_bytes` counts what was marked; while it is 0 no record needs checking.
    """

    def __init__(self, stream: BinaryIO):
        self._s = stream
        self._dec = codecs.getincrementaldecoder("utf-8-sig")(errors=_ERRORS)  # drops a BOM
        self._buf = b""
        self._eof = False
        self.bad_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._buf and not self._eof:
            data = self._s.read(_CHUNK)
            self._eof = not data
            text = self._dec.decode(data, final=self._eof)
            out = text.encode("utf-8", "surrogatepass")
            if len(out) != len(data):  # a marker takes 4 bytes in place of 1
                self.bad_bytes += sum(1 for c in text if ord(c) >= _MARK_BASE + 0x80)
            self._buf = out
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def marked_bytes(value: object) -> list[int]:
    """The undecodable bytes marked inside a parsed record (strings and keys, nested)."""
    found: list[int] = []
    _walk(value, found)
    return found


def _walk(value: object, found: list[int]) -> None:
    if isinstance(value, str):
        found.extend(ord(c) - _MARK_BASE for c in value if ord(c) >= _MARK_BASE + 0x80)
    elif isinstance(value, dict):
        for k, v in value.items():
            _walk(k, found)
            _walk(v, found)
    elif isinstance(value, list):
        for v in value:
            _walk(v, found)


def replace_marked(value: object) -> object:
    """The record with every marked byte replaced by U+FFFD (``--encoding-errors replace``)."""
    if isinstance(value, str):
        if not any(ord(c) >= _MARK_BASE + 0x80 for c in value):
            return value
        return "".join("\ufffd" if ord(c) >= _MARK_BASE + 0x80 else c for c in value)
    if isinstance(value, dict):
        return {replace_marked(k): replace_marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_marked(v) for v in value]
    return value
