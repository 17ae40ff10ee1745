"""Content fingerprints: what every cache key uses to name files, folders and models.

A key must change whenever the bytes behind it change, and never because a name or a size did
not. So:

- a **file** is named by the SHA-256 of its bytes (:func:`file_digest`); a digest recorded
  earlier is reused when the file's size and modification time are unchanged;
- a **folder** (a model, an adapter, a run's weights) is named by a hash over the SHA-256 of
  every file in it (:func:`folder_fingerprint`), computed once and stored beside the files in
  ``.instructmine-fingerprint.json``, then re-checked cheaply by size and modification time:
  only files whose size or time changed are read again. Re-training into the same folder
  rewrites the weights, so their fingerprint changes even when every size is the same;
- a **model name** (:func:`model_fingerprint`) is an offline alias with its package version
  (a released package never changes), a local folder by content, a training run folder by its
  base model and weights, or a hub id with the revision found in the local cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

STORE_NAME = ".instructmine-fingerprint.json"
STORE_VERSION = 1
_CHUNK = 1 << 20


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def file_digest(path: Path | str, known: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"sha256", "size", "mtime_ns"}`` of a file; ``known`` (an earlier digest of the same
    path) is returned as is when the size and modification time still match."""
    path = Path(path)
    size, mtime = _stat(path)
    if (
        known
        and known.get("size") == size
        and known.get("mtime_ns") == mtime
        and known.get("sha256")
    ):
        return dict(known)
    return {"sha256": file_sha256(path), "size": size, "mtime_ns": mtime}


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _store_path(folder: Path, beside: bool) -> Path:
    """Beside the files when asked and the folder is writable, else in the user cache."""
    if beside and os.access(folder, os.W_OK):
        return folder / STORE_NAME
    from instructmine.models import cache_dir

    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:24]
    return cache_dir() / "fingerprints" / f"{key}.json"


def folder_fingerprint(folder: Path | str, beside: bool = True) -> str:
    """Content hash of every (non-hidden) file in ``folder`` and its relative path.

    The per-file digests are remembered beside the files (``beside``, for folders the project
    owns: models, run weights) or in the user cache (for a user's data folders, which are never
    written to).
    """
    from instructmine import atomic

    folder = Path(folder)
    store = _store_path(folder, beside)
    try:
        known = json.loads(store.read_text(encoding="utf-8"))
        if known.get("version") != STORE_VERSION:
            known = {}
    except (OSError, ValueError):
        known = {}
    old = known.get("files", {})
    files = {}
    for f in _files(folder):
        rel = f.relative_to(folder).as_posix()
        files[rel] = file_digest(f, old.get(rel))
    h = hashlib.sha256()
    for rel, d in files.items():
        h.update(f"{rel}\0{d['sha256']}\n".encode())
    value = h.hexdigest()[:32]
    if files != old or known.get("fingerprint") != value:
        # a read-only place: the value is still right, only not remembered
        with contextlib.suppress(OSError):
            atomic.write_json(
                store, {"version": STORE_VERSION, "fingerprint": value, "files": files}
            )
    return value


def _hub_revision(name: str) -> str | None:
    """The commit of a hub model's snapshot in the local cache (None when not cached)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(name, "config.json")
    except Exception:  # an id the hub library rejects (bad repo name): nothing cached
        return None
    if not isinstance(found, str):
        return None
    parts = Path(found).parts
    return parts[parts.index("snapshots") + 1] if "snapshots" in parts else None


def model_fingerprint(name: str | os.PathLike[str] | None) -> str | None:
    """A content identity of a model for cache keys. Never downloads or converts anything."""
    if name is None:
        return None
    name = str(name)
    from instructmine.models import ALIASES

    if name in ALIASES:
        from importlib.metadata import PackageNotFoundError, version

        try:
            ver = version(ALIASES[name].package.replace("_", "-"))
        except PackageNotFoundError:
            ver = "not-installed"
        return f"alias:{name}@{ver}"
    path = Path(name).expanduser()
    if path.is_dir():
        from instructmine.run_dir import RunDir

        run = RunDir(path)
        if run.is_finished():
            return _run_fingerprint(run)
        return f"dir:{folder_fingerprint(path)}"
    if path.is_file():
        return f"file:{file_digest(path)['sha256'][:32]}"
    revision = _hub_revision(name)
    return f"hub:{name}@{revision}" if revision else f"hub:{name}"


def _run_fingerprint(run: Any) -> str:
    """Content identity of a finished run's model: the base model's and the weights'."""
    cfg = run.config()
    weights = run.weights_dir(cfg.get("method"))
    base = model_fingerprint(cfg["model"]) if cfg.get("method") != "full" else None
    return "run:" + digest_json([base, cfg.get("method"), folder_fingerprint(weights)])


def _dumps(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, default=str, ensure_ascii=False).encode()


def digest_json(data: Any) -> str:
    """A short stable hash of JSON-able data (configs, key tuples)."""
    return hashlib.sha256(_dumps(data)).hexdigest()[:16]


def digest_json_lists(lists: Iterable[Iterable[Any]]) -> str:
    """``digest_json([list(a), list(b), ...])`` with every inner list streamed item by item:
    the same value in bounded memory (for example a pool's columns read in batches)."""
    h = hashlib.sha256()
    h.update(b"[")
    for i, items in enumerate(lists):
        h.update(b", [" if i else b"[")
        for j, item in enumerate(items):
            if j:
                h.update(b", ")
            h.update(_dumps(item))
        h.update(b"]")
    h.update(b"]")
    return h.hexdigest()[:16]
