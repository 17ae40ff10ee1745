"""Whose file is it: the one rule for ``-o`` onto an existing file.

An output may replace a file InstructMine wrote (a stage manifest names it, it is a results
JSON with its own stage block, or it is a canonical pool); any other existing file is refused
unless ``--overwrite`` is given (docs/robustness.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from instructmine.atomic import OutputPathError

MARK = "<!-- written by instructmine"


def marked(text: str, verb: str) -> str:
    """``text`` (a markdown report) with the last line that says InstructMine wrote it, so a
    later ``-o`` onto the same file is recognised as the project's own (:func:`written_here`)."""
    return text.rstrip("\n") + f"\n\n{MARK} {verb} -->\n"


def _marked_text(path: Path, limit: int = 16 << 20) -> bool:
    """True when ``path`` is a small text file whose last line is :data:`MARK`'s."""
    try:
        if not path.is_file() or path.stat().st_size > limit:
            return False
        lines = path.read_bytes().rstrip().splitlines()
    except OSError:
        return False
    return bool(lines) and lines[-1].decode("utf-8", "replace").startswith(MARK)


def written_here(path: Path | str, manifest: Path | str | None = None) -> bool:
    """True when the file at ``path`` was written by InstructMine: a stage manifest names it
    among its outputs (``manifest``, e.g. ``POOL.ingest.json``), the file is itself a stage
    manifest (a results JSON), a markdown report carrying :data:`MARK`, or a canonical pool
    (Parquet with ``id``, ``source`` and ``messages`` columns: every pool writer makes one)."""
    from instructmine.stage import STAGE_KEY, read_manifest

    path = Path(path)
    own = _small_json(path)
    if own is not None and isinstance(own.get(STAGE_KEY), dict):
        return True  # a results JSON holding its own stage block
    block = ((read_manifest(manifest) if manifest else None) or {}).get(STAGE_KEY)
    if isinstance(block, dict):
        here = os.path.realpath(path)
        if any(os.path.realpath(str(o)) == here for o in block.get("outputs") or {}):
            return True
    return _is_pool(path) or _marked_text(path)


def _small_json(path: Path, limit: int = 16 << 20) -> dict[str, Any] | None:
    """``path``'s JSON object when it is a small JSON object file, else None (never raises)."""
    try:
        if path.stat().st_size > limit:
            return None
        data = path.read_bytes()
        if data.lstrip()[:1] != b"{":
            return None
        doc = json.loads(data)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _is_pool(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"PAR1":
                return False
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
    except Exception:  # unreadable or not Parquet: not one of ours
        return False
    return {"id", "source", "messages"} <= set(names)


def refuse_foreign(
    outputs: list[Path | str], manifest: Path | str | None = None, overwrite: bool = False
) -> None:
    """Raise :class:`OutputPathError` when an output path is an existing file InstructMine did
    not write (see :func:`written_here`): ``-o`` never silently replaces a user's file.
    ``overwrite`` (``--overwrite``) forces it. The one refusal rule of every verb taking ``-o``."""
    if overwrite:
        return
    for out in outputs:
        out = Path(out)
        if out.is_file() and not written_here(out, manifest):
            raise OutputPathError(
                f"{out} exists and was not written by instructmine (no manifest names it); "
                "choose another output path, or pass --overwrite to replace it"
            )
