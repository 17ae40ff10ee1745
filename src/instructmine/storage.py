"""Where a run's outputs live: a local folder or any URI pyarrow's file systems understand.

:func:`open_output` turns ``-o`` (``/shared/scores``, ``s3://bucket/prefix``,
``s3://bucket/prefix?endpoint_override=http://host:9000``, ``gs://bucket/prefix``, ...) into a
:class:`Location`: a pyarrow ``FileSystem`` plus a path on it. Every file of a scoring run
(cache parts, ``cache.json``, per-indicator tables, ``scores.json``) is written and read
through a Location, so the same code serves a shared file system and object storage.

What is atomic:

- local paths: every write goes through :mod:`instructmine.atomic` (a temporary sibling
  renamed into place), as before;
- URIs: object stores have no rename, so a file is written to its final key in one upload
  (the object appears only when the upload completes; an interrupted upload leaves no
  object). A writer therefore never shows a half file, but two writers of one key race
  (last one wins), and a run's files appear one by one: the manifest is written last.

A Location pickles (pyarrow file systems do), so Ray actors receive it as is; credentials are
not pickled unless they were given in the URI: each node reads its own (``AWS_*`` variables,
``~/.aws``, instance roles).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class StorageError(OSError):
    """An output or input URI cannot be used (the message names the URI and the fix)."""


def is_uri(ref: Path | str) -> bool:
    """True for ``scheme://...`` strings (object storage), False for local paths."""
    return isinstance(ref, str) and "://" in ref and not ref.startswith("file://")


def _split_query(uri: str) -> tuple[str, str]:
    base, sep, query = uri.partition("?")
    return base.rstrip("/"), (sep + query if sep else "")


@dataclass(frozen=True)
class Location:
    """A file or folder on a pyarrow file system: ``path`` on ``fs`` is what is read and
    written, ``uri`` is how it is shown and recorded (a local path as the user gave it)."""

    fs: Any
    path: str
    uri: str

    @property
    def local(self) -> bool:
        """True when this is a path on this machine's file system."""
        return not is_uri(self.uri)

    def __str__(self) -> str:
        return self.uri

    def __truediv__(self, name: str) -> Location:
        base, query = _split_query(self.uri)
        if self.local:
            return Location(self.fs, str(Path(self.path) / name), str(Path(self.uri) / name))
        return Location(self.fs, posixpath.join(self.path, name), f"{base}/{name}{query}")

    @property
    def name(self) -> str:
        """The last component of the path."""
        return posixpath.basename(self.path)

    def exists(self) -> bool:
        """True when a file (or, locally, a folder) is here."""
        import pyarrow.fs as pafs

        return self._call(lambda: self.fs.get_file_info(self.path).type != pafs.FileType.NotFound)

    def is_file(self) -> bool:
        """True when a file (an object, on object storage) is here."""
        import pyarrow.fs as pafs

        return self._call(lambda: self.fs.get_file_info(self.path).type == pafs.FileType.File)

    def mkdir(self) -> None:
        """Create the folder (locally; object stores have no folders to create)."""
        if self.local:
            Path(self.path).mkdir(parents=True, exist_ok=True)

    def list(self, prefix: str, suffix: str) -> list[Location]:
        """Files directly in this folder named ``prefix*suffix``, sorted by name."""
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(self.path, allow_not_found=True)
        infos = self._call(lambda: self.fs.get_file_info(selector))
        names = sorted(
            i.base_name
            for i in infos
            if i.type == pafs.FileType.File
            and i.base_name.startswith(prefix)
            and i.base_name.endswith(suffix)
        )
        return [self / n for n in names]

    def read_bytes(self) -> bytes:
        """The whole file."""
        return self._call(lambda: self._read())

    def _read(self) -> bytes:
        with self.fs.open_input_stream(self.path) as fh:
            return fh.read()

    def write_bytes(self, data: bytes, fsync: bool = False) -> None:
        """Put ``data`` here whole: atomically renamed locally, one upload on object storage."""
        if self.local:
            from instructmine import atomic

            atomic.write_bytes(self.path, data, fsync=fsync)
            return
        self._call(lambda: self._put(data))

    def _put(self, data: bytes) -> None:
        with self.fs.open_output_stream(self.path) as fh:
            fh.write(data)

    def write_text(self, text: str) -> None:
        """Put UTF-8 ``text`` here whole (see :meth:`write_bytes`)."""
        self.write_bytes(text.encode("utf-8"))

    def read_table(self, columns: list[str] | None = None) -> Any:
        """A Parquet file here as an Arrow table."""
        import pyarrow.parquet as pq

        return self._call(lambda: pq.read_table(self.path, columns=columns, filesystem=self.fs))

    def write_table(self, table: Any, fsync: bool = False) -> None:
        """Write ``table`` as Parquet here whole (serialised in memory, then one write)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.local:
            from instructmine import atomic

            atomic.write_table(table, self.path, fsync=fsync)
            return
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        self.write_bytes(sink.getvalue().to_pybytes(), fsync=fsync)

    def _call(self, fn):
        try:
            return fn()
        except FileNotFoundError:
            raise
        except OSError as err:
            # the fix before the store's own words: a one-line error is cut at 300 characters
            detail = " ".join(str(err).split())
            raise StorageError(f"{self.uri}{_hint(self.uri, str(err))} ({detail})") from None


def _hint(uri: str, message: str) -> str:
    text = message.lower()
    if "bucket" in text and any(w in text for w in ("not exist", "not found", "nosuchbucket")):
        return "; create the bucket first, or fix its name in the URI"
    if "credential" in text or "access denied" in text or "403" in text:
        return (
            "; set credentials for this store (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, "
            "~/.aws, or an instance role) on this machine and every Ray node"
        )
    if "resolve" in text or "connect" in text or "curl" in text:
        return "; check the endpoint (AWS_ENDPOINT_URL or ?endpoint_override=host:port in the URI)"
    return ""


def as_ref(ref: Path | str) -> Path | str:
    """``ref`` as a :class:`~pathlib.Path` when local, unchanged when a URI (``Path`` would
    fold ``s3://`` into ``s3:/``)."""
    return str(ref) if is_uri(str(ref)) else Path(ref)


def open_output(ref: Path | str | Location) -> Location:
    """The :class:`Location` of a local path or a pyarrow URI (``s3://bucket/prefix?...``).

    A local path is read and written by its absolute path (Ray actors' working folders
    differ) and shown as given. A URI's query string
    (``endpoint_override``, ``region``, ...) configures its file system and is kept in the
    URIs of the files under it. Raises :class:`StorageError` naming the URI and the fix when
    the scheme is unknown or the store is unreachable.
    """
    if isinstance(ref, Location):
        return ref
    if not is_uri(ref):
        import pyarrow.fs as pafs

        given = Path(str(ref).removeprefix("file://"))
        return Location(pafs.LocalFileSystem(), str(given.absolute()), str(given))
    import pyarrow.fs as pafs

    try:
        fs, path = pafs.FileSystem.from_uri(str(ref))
    except (ValueError, OSError) as err:
        raise StorageError(
            f"{ref}: pyarrow cannot open this URI ({err}); use a local path or a URI such as "
            "s3://bucket/prefix (optionally ?endpoint_override=host:port) or gs://bucket/prefix"
        ) from None
    base, query = _split_query(str(ref))
    return Location(fs, path.rstrip("/"), base + query)
