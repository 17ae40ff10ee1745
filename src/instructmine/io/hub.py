"""Records from Hugging Face ``datasets``: ``save_to_disk`` folders and hub dataset ids.

Both go through the real ``datasets`` code (``load_from_disk`` / ``load_dataset``). Without a
network the hub path fails fast: when ``HF_HUB_OFFLINE``/``HF_DATASETS_OFFLINE`` is set, or a
3-second TCP probe of the hub endpoint fails, the load runs inside
:func:`instructmine.offline.offline` (scoped: the process is not left offline), so it answers
from the local cache or raises at once instead of retrying for minutes.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from instructmine.io.errors import IngestError, Location
from instructmine.io.readers import Item, StreamBroken
from instructmine.offline import offline, offline_requested

PROBE_TIMEOUT_S = 3.0


def is_saved_dataset(path: Path) -> bool:
    """True for a folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    return (path / "dataset_dict.json").is_file() or (
        (path / "state.json").is_file() and (path / "dataset_info.json").is_file()
    )


def _batches_of(ds, label: str) -> Iterator[Item]:
    index = 0
    for batch in ds.with_format("arrow").iter(batch_size=4096):
        for row in batch.to_pylist():
            yield Location(label, index=index), row
            index += 1


def saved_dataset_parts(path: Path, split: str | None) -> list[tuple[str, Iterator[Item]]]:
    """``(label, items)`` for each split of a ``save_to_disk`` folder (or just ``split``)."""
    import datasets

    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as e:  # datasets raises FileNotFoundError / ValueError / ArrowInvalid
        raise IngestError(f"{path}: not a readable datasets folder ({e})") from e
    if isinstance(ds, datasets.DatasetDict):
        names = list(ds) if split is None else [split]
        unknown = [n for n in names if n not in ds]
        if unknown:
            raise IngestError(f"{path}: no split {unknown[0]!r}; it has {list(ds)}")
        return [(f"{path}[{n}]", _batches_of(ds[n], f"{path}[{n}]")) for n in names]
    return [(str(path), _batches_of(ds, str(path)))]


def _hub_reachable() -> bool:
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", port), PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def hub_items(repo_id: str, split: str | None, config: str | None) -> Iterator[Item]:
    """Stream a hub dataset's records through ``datasets.load_dataset``.

    Raises :class:`IngestError` (fast) when the hub is unreachable and the dataset is not cached.
    """
    is_offline = offline_requested()
    reason = "HF_HUB_OFFLINE/HF_DATASETS_OFFLINE is set"
    if not is_offline and not _hub_reachable():
        is_offline = True
        reason = f"the hub endpoint did not answer within {PROBE_TIMEOUT_S:g} s"
    split = split or "train"
    try:
        if is_offline:  # from the local cache only, loaded whole (memory-mapped) in the scope
            with offline():
                import datasets

                ds = datasets.load_dataset(repo_id, config, split=split)
        else:
            import datasets

            ds = datasets.load_dataset(repo_id, config, split=split, streaming=True)
    except Exception as e:  # datasets raises ConnectionError, FileNotFoundError, ValueError...
        hint = (
            f" (offline: {reason}; only datasets in the local cache can load)" if is_offline else ""
        )
        raise IngestError(
            f"{repo_id}: no such local file or folder, and loading it as a Hugging Face hub "
            f"dataset failed{hint}: {type(e).__name__}: {e}"
        ) from e
    return _stream(ds, f"hf://{repo_id}[{split}]")


def _stream(ds, label: str) -> Iterator[Item]:
    index = 0
    try:
        for row in ds:
            yield Location(label, index=index), row
            index += 1
    except Exception as e:  # a dropped connection mid-stream
        yield Location(label, index=index), StreamBroken(f"cannot read on: {e}")
