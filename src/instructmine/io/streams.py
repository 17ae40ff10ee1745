"""Byte streams of data files: plain, gzip, bz2 or xz.

A compressed file is decompressed chunk by chunk with the codec's own decompressor object, so a
truncated file yields every byte it holds (``gzip.open`` raises ``EOFError`` and loses the
buffer it was filling) and :attr:`Decompressed.truncated` says the stream ended early.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from pathlib import Path
from typing import BinaryIO

MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")
_CHUNK = 1 << 16


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
