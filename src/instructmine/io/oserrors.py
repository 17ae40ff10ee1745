"""File-system faults as one line: what failed, on which file, and what to do.

A full disk, a file-size limit, a read-only or unreadable path, a symlink loop or a corrupt
Parquet page reach the user as an ``OSError`` from deep inside a writer or reader (pyarrow's
carry no file name, only ``[errno 27]`` in their text). :func:`describe` turns one into the
line the CLI prints; the temporary name an atomic write used is shown as the file it stood for.
"""

from __future__ import annotations

import errno
import os
import re

from instructmine.atomic import TMP_PREFIX

_TMP_NAME = re.compile(re.escape(TMP_PREFIX) + r"[0-9a-f]{12}-")
_ERRNO_IN_TEXT = re.compile(r"\[errno (\d+)\]|\(os error (\d+)\)", re.IGNORECASE)

_FIX = {
    errno.ENOSPC: "the disk is full: free some space and re-run",
    errno.EFBIG: "a file grew past the size limit (disk quota or ulimit -f): free space or "
    "raise the limit and re-run",
    errno.EDQUOT: "the disk quota is used up: free some space and re-run",
    errno.EACCES: "permission denied: check the file's and its folder's permissions",
    errno.EPERM: "operation not permitted: check the file's and its folder's permissions",
    errno.EROFS: "the file system is read-only: choose an output path you can write",
    errno.ELOOP: "a symbolic link loop: fix or remove the link",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.EIO: "an input/output error: the disk or file may be damaged",
}


def error_number(e: OSError) -> int | None:
    """The errno of ``e``, also when it is only written in the message (pyarrow)."""
    if e.errno:
        return e.errno
    m = _ERRNO_IN_TEXT.search(str(e))
    return int(m.group(1) or m.group(2)) if m else None


def as_os_error(e: BaseException) -> OSError | None:
    """``e`` when it is an ``OSError``; a library's own error that wraps one and says so only
    in its text (safetensors: ``I/O error: File too large (os error 27)``) as an ``OSError``;
    else None."""
    if isinstance(e, OSError):
        return e
    ours = type(e).__module__.startswith("instructmine")  # our errors already say it all
    m = _ERRNO_IN_TEXT.search(str(e)) if isinstance(e, Exception) and not ours else None
    if m is None:
        return None
    number = int(m.group(1) or m.group(2))
    return OSError(number, os.strerror(number))


def shown_path(name: object) -> str:
    """A path as the user knows it: an atomic write's temporary shown as its destination."""
    return _TMP_NAME.sub("", str(name))


def describe(e: OSError) -> str:
    """One line (no newline) for a file-system fault: the file when known, and the fix."""
    number = error_number(e)
    what = _FIX.get(number) if number is not None else None
    if what is None:
        text = " ".join(str(e.strerror or e).split())
        what = f"{text} (a damaged or unreadable file?)" if "parquet" in text.lower() else text
    where = e.filename if e.filename is not None else None
    if where is None:
        return what
    line = f"{shown_path(where)}: {what}"
    if e.filename2 is not None:
        line += f" (to {shown_path(e.filename2)})"
    return line
