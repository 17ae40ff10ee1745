"""Stable record ids: a content hash of (source, messages), plus an occurrence suffix.

``id = blake2b-64(orjson([source, messages]))`` as 16 hex digits. The same conversation in the
same source gets the same id on every run and machine. Exact repeats inside one source (real
data sets have them) stay distinct: the k-th repeat (k >= 2, in reading order) gets ``-k``
appended, so ids are unique in a pool and stable as long as the source's record order is.

The occurrence check keeps every distinct 64-bit key in sorted NumPy arrays (8 bytes per
record, merged like a log-structured tree), not in a Python set (~70 bytes per record).
"""

from __future__ import annotations

from hashlib import blake2b

import numpy as np
import orjson

from instructmine.schema import Message


def content_key(source: str, messages: list[Message]) -> int:
    """The 64-bit content hash of one record (as an unsigned int)."""
    digest = blake2b(orjson.dumps([source, messages]), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def format_id(key: int, occurrence: int) -> str:
    """Id text of a key and its occurrence number (1 for the first)."""
    return f"{key:016x}" if occurrence == 1 else f"{key:016x}-{occurrence}"


class OccurrenceCounter:
    """Numbers repeated 64-bit keys across batches: 1 for a first sighting, 2, 3... after."""

    def __init__(self) -> None:
        self._levels: list[np.ndarray] = []
        self._repeats: dict[int, int] = {}

    def __len__(self) -> int:
        return sum(len(level) for level in self._levels)

    def occurrences(self, keys: np.ndarray) -> np.ndarray:
        """Occurrence number of every key of a batch, in order (updates the counter)."""
        keys = np.asarray(keys, dtype=np.uint64)
        out = np.ones(len(keys), dtype=np.int64)
        if not len(keys):
            return out
        seen = np.zeros(len(keys), dtype=bool)
        for level in self._levels:
            pos = np.minimum(np.searchsorted(level, keys), len(level) - 1)
            seen |= level[pos] == keys
        uniq, first = np.unique(keys, return_index=True)
        repeat_in_batch = np.ones(len(keys), dtype=bool)
        repeat_in_batch[first] = False
        for i in np.flatnonzero(seen | repeat_in_batch):
            key = int(keys[i])
            count = self._repeats.get(key, 1) + 1
            self._repeats[key] = count
            out[i] = count
        new = uniq if not seen.any() else np.unique(keys[~seen])
        self._push(new)
        return out

    def _push(self, sorted_keys: np.ndarray) -> None:
        if not len(sorted_keys):
            return
        self._levels.append(sorted_keys)
        while len(self._levels) > 1 and len(self._levels[-2]) <= 2 * len(self._levels[-1]):
            top = self._levels.pop()
            below = self._levels.pop()
            merged = np.concatenate([below, top])
            merged.sort(kind="stable")
            self._levels.append(merged)
