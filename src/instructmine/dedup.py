"""Exact and near-duplicate removal over a pool, reporting every cluster and what was kept.

- **exact**: records whose normalised text is identical (Unicode NFKC, lower case, runs of
  whitespace collapsed) share a 64-bit BLAKE2b key;
- **near**: MinHash signatures (``datasketch``) of word 5-gram shingles, candidates from MinHash
  LSH at a Jaccard ``threshold``, confirmed by the signatures' estimated Jaccard.

The text of a record is its whole conversation (``role: content`` lines). Records are visited
in pool order and the first of each cluster is kept, so the result is deterministic. Memory:
one 8-byte key per distinct record (exact) and one signature (``num_perm`` x 8 bytes) per kept
record (near). Ingest never deduplicates on its own; this is an explicit step.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from hashlib import blake2b
from pathlib import Path
from typing import Literal

import numpy as np
import orjson
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from instructmine.atomic import refuse_overwriting_inputs
from instructmine.io.errors import PoolError
from instructmine.io.pool import PoolWriter, iter_pool, require_records
from instructmine.ownership import refuse_foreign

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


class DedupConfig(BaseModel):
    """How to deduplicate."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["exact", "near", "both"] = "both"
    threshold: float = Field(0.8, gt=0.0, le=1.0)  # Jaccard similarity of shingle sets
    num_perm: int = Field(128, ge=16)
    ngram: int = Field(5, ge=1)  # words per shingle
    seed: int = 1


@dataclass
class DedupSummary:
    """Counts of one dedup run, and where the clusters were written."""

    pool: str
    out: str
    clusters_path: str
    method: str
    records: int = 0
    exact_removed: int = 0
    near_removed: int = 0
    clusters: int = 0
    config: dict = field(default_factory=dict)

    @property
    def kept(self) -> int:
        return self.records - self.exact_removed - self.near_removed

    def to_dict(self) -> dict:
        return asdict(self) | {"kept": self.kept}


def normalise(text: str) -> str:
    """Text used for exact matching: NFKC, lower case, whitespace runs collapsed, stripped."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def conversation_text(messages: list[dict]) -> str:
    """A record's full text: one ``role: content`` block per turn."""
    return "\n".join(f"{m['role']}: {m['content']}" for m in messages)


def shingles(text: str, n: int) -> set[bytes]:
    """Word n-gram shingles of lower-cased text (the whole text when shorter than n words)."""
    words = _WORD.findall(text.lower())
    if len(words) <= n:
        return {" ".join(words).encode()}
    return {" ".join(words[i : i + n]).encode() for i in range(len(words) - n + 1)}


class _Clusters:
    def __init__(self) -> None:
        self.members: dict[str, list[dict]] = {}

    def add(self, kept: str, dup: str, kind: str, similarity: float) -> None:
        self.members.setdefault(kept, []).append(
            {"id": dup, "kind": kind, "similarity": round(similarity, 4)}
        )


def dedup_pool(
    pool: Path | str, out: Path | str, config: DedupConfig | None = None, overwrite: bool = False
) -> DedupSummary:
    """Write the deduplicated pool to ``out`` and the clusters to ``OUT.clusters.jsonl``.

    An existing ``out`` instructmine did not write is refused unless ``overwrite``."""
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    cfg = config or DedupConfig()
    out = Path(out)
    clusters_path = out.with_name(out.stem + ".clusters.jsonl")
    refuse_overwriting_inputs([out, clusters_path], [pool])
    refuse_foreign([out], None, overwrite)
    require_records(pool, "deduplicate")
    summary = DedupSummary(
        str(pool), str(out), str(clusters_path), cfg.method, config=cfg.model_dump()
    )
    exact_keys: dict[bytes, str] = {}
    lsh = (
        MinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm)
        if cfg.method != "exact"
        else None
    )
    signatures: dict[str, LeanMinHash] = {}
    clusters = _Clusters()
    seen_ids: dict[str, bytes] = {}
    writer = PoolWriter(out)
    try:
        for batch in iter_pool(pool):
            ids = batch.column("id").to_pylist()
            msgs = batch.column("messages").to_pylist()
            keep = np.ones(len(ids), dtype=bool)
            for i, (rid, conv) in enumerate(zip(ids, msgs, strict=True)):
                summary.records += 1
                text = conversation_text(conv)
                key = blake2b(normalise(text).encode(), digest_size=8).digest()
                if _repeated_id(pool, rid, key, seen_ids):
                    clusters.add(rid, rid, "exact", 1.0)
                    summary.exact_removed += 1
                    keep[i] = False
                    continue
                if cfg.method != "near":
                    first = exact_keys.setdefault(key, rid)
                    if first != rid:
                        clusters.add(first, rid, "exact", 1.0)
                        summary.exact_removed += 1
                        keep[i] = False
                        continue
                if lsh is not None:
                    mh = MinHash(num_perm=cfg.num_perm, seed=cfg.seed)
                    mh.update_batch(list(shingles(text, cfg.ngram)))
                    best, best_sim = None, 0.0
                    for cand in lsh.query(mh):
                        sim = signatures[cand].jaccard(mh)
                        if sim >= cfg.threshold and (sim > best_sim or best is None):
                            best, best_sim = cand, sim
                    if best is not None:
                        clusters.add(best, rid, "near", best_sim)
                        summary.near_removed += 1
                        keep[i] = False
                        continue
                    lean = LeanMinHash(mh)
                    lsh.insert(rid, lean)
                    signatures[rid] = lean
            writer.write(batch.filter(pa.array(keep)))
    except BaseException:
        writer.abort()
        raise
    writer.close()
    with open(clusters_path, "wb") as f:
        for kept, dups in clusters.members.items():
            f.write(orjson.dumps({"kept": kept, "duplicates": dups}) + b"\n")
    summary.clusters = len(clusters.members)
    return summary


def _repeated_id(pool: Path | str, rid: str, key: bytes, seen: dict[str, bytes]) -> bool:
    """True for a second record with an id already seen and the same text (an exact repeat,
    removed); a repeated id on different text is an error: ids must name one record."""
    first = seen.setdefault(rid, key)
    if first is key:
        return False
    if first == key:
        return True
    raise PoolError(
        f"{pool}: record id {rid!r} names two different records; ids must be unique: "
        "re-ingest the sources with `instructmine ingest` (it gives every record its own id)"
    )


def print_dedup_summary(summary: DedupSummary, console=None) -> None:
    """Rich table of a dedup run."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=f"Dedup ({summary.method})")
    for col in ("records", "exact dups", "near dups", "kept", "clusters"):
        table.add_column(col, justify="right")
    table.add_row(
        *(
            f"{v:,}"
            for v in (
                summary.records,
                summary.exact_removed,
                summary.near_removed,
                summary.kept,
                summary.clusters,
            )
        )
    )
    console.print(table)
    console.print(f"pool: {summary.out}\nclusters (kept id + removed ids): {summary.clusters_path}")
