"""Training data: read a pool, tokenise every record with the shared prompt code, and describe it.

Every conversation becomes tokens through :func:`instructmine.prompting.encode` (the same code
path as perplexity, IFD and eval loss), so the trainer receives ``input_ids`` and ``labels``
with ``-100`` outside the assistant turns and trl never re-derives the mask.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instructmine import atomic
from instructmine.prompting import IGNORE_INDEX, Template, encode
from instructmine.schema import Message


@dataclass
class TrainingRecord:
    """One pool record ready for training."""

    id: str
    input_ids: list[int]
    labels: list[int]
    truncated: bool


@dataclass
class EncodedPool:
    """The encoded records of a pool, plus what was left out and why."""

    records: list[TrainingRecord]
    dropped: list[dict[str, str]] = field(default_factory=list)

    @property
    def n_tokens(self) -> int:
        """Input tokens over all kept records."""
        return sum(len(r.input_ids) for r in self.records)

    @property
    def n_label_tokens(self) -> int:
        """Supervised (assistant) tokens over all kept records."""
        return sum(sum(t != IGNORE_INDEX for t in r.labels) for r in self.records)


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes (names the exact data a run saw)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_conversations(
    pool_path: Path | str, max_records: int | None = None
) -> list[tuple[str, list[Message]]]:
    """Read ``(id, messages)`` pairs from a canonical pool Parquet (the first ``max_records``)."""
    from instructmine.io import iter_pool

    out: list[tuple[str, list[Message]]] = []
    for batch in iter_pool(pool_path, batch_size=4096, columns=["id", "messages"]):
        for rid, msgs in zip(
            batch.column("id").to_pylist(), batch.column("messages").to_pylist(), strict=True
        ):
            out.append((rid, [{"role": m["role"], "content": m["content"]} for m in msgs]))
            if max_records is not None and len(out) >= max_records:
                return out
    return out


def encode_conversations(
    tokenizer: Any,
    conversations: Sequence[tuple[str, Sequence[Message]]],
    template: Template = "auto",
    max_length: int | None = None,
    train_on: str = "all_assistant",
    source: str = "pool",
) -> EncodedPool:
    """Tokenise ``(id, messages)`` pairs; records left with no supervised token are dropped
    and listed (with the reason) instead of training on nothing."""
    kept: list[TrainingRecord] = []
    dropped: list[dict[str, str]] = []
    for rid, messages in conversations:
        try:
            full = encode(tokenizer, messages, template, None, train_on=train_on)  # type: ignore[arg-type]
        except ValueError as err:
            raise ValueError(f"{source}: record {rid!r} cannot be encoded: {err}") from err
        if max_length is not None and len(full.input_ids) > max_length:
            ids, labels, truncated = full.input_ids[:max_length], full.labels[:max_length], True
        else:
            ids, labels, truncated = full.input_ids, full.labels, False
        if not any(t != IGNORE_INDEX for t in labels[1:]):
            reason = (
                f"no assistant token within max_length={max_length}"
                if truncated
                else "no assistant turn to learn from"
            )
            dropped.append({"id": rid, "reason": reason})
            continue
        kept.append(TrainingRecord(rid, ids, labels, truncated))
    return EncodedPool(kept, dropped)


def to_dataset(pool: EncodedPool) -> Any:
    """A :class:`datasets.Dataset` of ``input_ids`` / ``labels`` that trl uses as is."""
    from datasets import Dataset

    return Dataset.from_dict(
        {
            "input_ids": [r.input_ids for r in pool.records],
            "labels": [r.labels for r in pool.records],
        }
    )


def write_manifest(
    path: Path, pool_path: Path | str, pool: EncodedPool, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write the data manifest of a run: which pool (path + hash) and which ids were trained on."""
    manifest = {
        "pool": str(Path(pool_path).resolve()),
        "pool_sha256": file_sha256(pool_path),
        "n_records": len(pool.records),
        "n_dropped": len(pool.dropped),
        "n_truncated": sum(r.truncated for r in pool.records),
        "n_tokens": pool.n_tokens,
        "n_label_tokens": pool.n_label_tokens,
        "ids": [r.id for r in pool.records],
        "dropped": pool.dropped,
        **(extra or {}),
    }
    atomic.write_json(path, manifest, indent=1)
    return manifest
