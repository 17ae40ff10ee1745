"""Atomic writes: the one helper every stage uses to put a file (or folder) in place.

A result is written to a hidden temporary name beside its destination and renamed onto it only
when complete (``os.replace`` is atomic on POSIX), so a reader sees the old file or the whole new
one, never a half; on any error, Ctrl-C included, the temporary is removed and the destination
is left as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

TMP_PREFIX = ".tmp-"


class OutputPathError(ValueError):
    """An output path cannot be written (it is a folder, or it is one of the inputs)."""


@contextmanager
def locked(path: Path | str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created) for the block; other processes
    block until it ends (the kernel releases it if this process dies)."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def claim(path: Path | str, block: bool = False) -> int | None:
    """Exclusive ``flock`` on ``path`` (created): the open fd, or None when another process
    holds it (with ``block``, wait for it instead). Close the fd to release; the kernel
    releases it if this process dies (SIGKILL included), so a killed worker's unit is free for
    the next one."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if block else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def append_line(path: Path | str, line: bytes) -> None:
    """Append one newline-terminated record to a table file durably, under the file's lock
    (several processes may append); a torn last line left by a killed writer is cut off first
    (it was never a finished record)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path.with_name(path.name + ".lock")), open(path, "ab+") as fh:
        if fh.seek(0, os.SEEK_END):
            fh.seek(0)
            data = fh.read()
            if not data.endswith(b"\n"):
                fh.truncate(data.rfind(b"\n") + 1)
        fh.seek(0, os.SEEK_END)
        fh.write(line if line.endswith(b"\n") else line + b"\n")
        fh.flush()
        os.fsync(fh.fileno())


def temporary_sibling(dest: Path) -> Path:
    """A unique hidden name in ``dest``'s folder (same file system, so the rename is atomic)."""
    return dest.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex[:12]}-{dest.name}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False when the
    system cannot (then the caller renames in two steps)."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    res = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return res == 0


@contextmanager
def atomic_path(dest: Path | str, *, folder: bool = False, fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path; when the block succeeds it replaces ``dest``.

    With ``folder`` the temporary is a folder (created) and replaces a folder at ``dest``. A
    file destination that is an existing folder is refused before anything is written.
    """
    dest = Path(dest)
    if not folder and dest.is_dir():
        raise OutputPathError(f"{dest} is a folder; give a file path to write")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(dest)
    if folder:
        tmp.mkdir()
    try:
        yield tmp
        if fsync and not folder:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        if folder and dest.exists():
            if _exchange(tmp, dest):  # one atomic step: dest is never missing
                _remove(tmp)
                return
            old = temporary_sibling(dest)
            os.replace(dest, old)
            os.replace(tmp, dest)
            _remove(old)
        else:
            os.replace(tmp, dest)
    except BaseException:
        _remove(tmp)
        raise


@contextmanager
def atomic_open(dest: Path | str, mode: str = "wb", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file for writing; it becomes ``dest`` when the block succeeds."""
    with atomic_path(dest) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def write_bytes(dest: Path | str, data: bytes, fsync: bool = False) -> Path:
    """Write ``data`` to ``dest`` atomically."""
    with atomic_path(dest, fsync=fsync) as tmp:
        tmp.write_bytes(data)
    return Path(dest)


def write_text(dest: Path | str, text: str) -> Path:
    """Write UTF-8 ``text`` to ``dest`` atomically."""
    return write_bytes(dest, text.encode("utf-8"))


def write_json(dest: Path | str, data: Any, indent: int | None = 2) -> Path:
    """Write ``data`` as JSON (UTF-8, trailing newline) to ``dest`` atomically."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    return write_text(dest, text + "\n")


def write_table(table: Any, dest: Path | str, fsync: bool = False, **kwargs: Any) -> Path:
    """Write an Arrow table as Parquet to ``dest`` atomically."""
    import pyarrow.parquet as pq

    with atomic_path(dest, fsync=fsync) as tmp:
        pq.write_table(table, tmp, **kwargs)
    return Path(dest)


def remove_stale_for(dest: Path | str) -> int:
    """Remove the temporaries a killed process left for ``dest`` (``.tmp-XXXXXXXXXXXX-NAME``
    beside it, from :func:`temporary_sibling`); return how many. Other files are not touched."""
    dest = Path(dest)
    n = 0
    pattern = f"{TMP_PREFIX}{'[0-9a-f]' * 12}-{glob_escape(dest.name)}"
    for stale in dest.parent.glob(pattern):
        _remove(stale)
        n += 1
    return n


def glob_escape(name: str) -> str:
    """``name`` with glob metacharacters escaped (``[`` ``*`` ``?``)."""
    return re.sub(r"([\[*?])", r"[\1]", name)


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back for the block: a few renames that must happen together
    (a pool, its rejects, its manifest) are not cut in the middle. The block is the command's
    last step, so a Ctrl-C that arrived during it is not raised afterwards (the new outputs are
    complete: saying "kept as it was" would be false); one line on stderr says so. A block
    that fails raises its own error. Outside the main thread: no effect."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        import sys

        print("Ctrl-C arrived as the new outputs were moved in: they are complete", file=sys.stderr)


def remove_stale(folder: Path | str) -> int:
    """Remove temporaries a killed process left in ``folder``; return how many."""
    n = 0
    for stale in Path(folder).glob(f"{TMP_PREFIX}*"):
        _remove(stale)
        n += 1
    return n


def refuse_file_as_folder(path: Path | str, what: str = "output folder") -> None:
    """Raise :class:`OutputPathError` when a folder output path is an existing file (before
    anything is written: ``mkdir`` would fail half way with a traceback)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{path} is a file, not a folder; give a {what} path")


def refuse_overwriting_inputs(outputs: list[Path | str], inputs: list[Path | str]) -> None:
    """Raise :class:`OutputPathError` when an output path is one of the inputs.

    Compared after resolving symlinks, so ``./x.jsonl`` and ``x.jsonl`` are the same file; an
    input folder also refuses outputs inside it only when that output is itself an input.
    """
    resolved = {os.path.realpath(p): Path(p) for p in inputs}  # never raises on a link loop
    for out in outputs:
        hit = resolved.get(os.path.realpath(out))
        if hit is not None:
            raise OutputPathError(
                f"output {out} is also an input ({hit}); writing it would destroy the data "
                "being read. Choose another output path"
            )
