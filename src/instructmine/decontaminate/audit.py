"""Stream a pool against the eval index: write the clean pool, every hit, and a manifest."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from instructmine.decontaminate.config import DecontaminateConfig
from instructmine.decontaminate.index import FIELDS, EvalIndex, ngrams, turns, words

STAGE_VERSION = 1
LEVELS = ("ngram", "prompt", "near", "embedding")


@dataclass
class DecontaminateSummary:
    """Counts of one audit, and where its outputs are."""

    pool: str
    out: str
    hits_path: str
    against: list[str]
    records: int = 0
    eval_items: int = 0
    short_eval_prompts: int = 0
    records_hit: int = 0
    removed: int = 0
    hits: dict[str, int] = field(default_factory=dict)  # level -> hits
    records_by_level: dict[str, int] = field(default_factory=dict)  # level -> records hit
    by_eval: dict[str, dict[str, int]] = field(default_factory=dict)  # file -> level -> records
    config: dict = field(default_factory=dict)

    @property
    def kept(self) -> int:
        return self.records - self.removed

    def to_dict(self) -> dict:
        return asdict(self) | {"kept": self.kept}

    @classmethod
    def from_dict(cls, doc: dict) -> DecontaminateSummary:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in doc.items() if k in names})


def output_paths(out: Path | str) -> tuple[Path, Path, Path]:
    """(clean pool, hits report ``OUT.hits.jsonl``, manifest ``OUT.decontaminate.json``)."""
    out = Path(out)
    stem = out.with_suffix("") if out.suffix == ".parquet" else out
    return out, Path(f"{stem}.hits.jsonl"), Path(f"{stem}.decontaminate.json")


def record_hits(index: EvalIndex, rid: str, messages: list[dict]) -> list[dict]:
    """Level 1 and 2 hits of one pool record (level 3 is batched: :func:`embedding_hits`)."""
    cfg = index.cfg
    users, answers = turns(messages)
    hits: list[dict] = []
    grams: set[str] = set()
    for text in users + answers:
        grams |= ngrams(words(text), cfg.ngram)
    shared = index.grams.keys() & grams
    if shared:
        per_item: dict[int, tuple[list[str], set[str]]] = {}
        for g in sorted(shared):
            for code in index.codes(g):
                gs, fields = per_item.setdefault(code // 2, ([], set()))
                if not gs or gs[-1] != g:
                    gs.append(g)
                fields.add(FIELDS[code % 2])
        for item, (gs, fields) in sorted(per_item.items()):
            ev = {"ngram": gs[0], "shared_ngrams": len(gs), "eval_fields": sorted(fields)}
            hits.append(_hit(index, rid, item, "ngram", ev))
    if index.whole:
        seen: set[int] = set()
        for text in users:
            for item in index.whole.get(" ".join(words(text)), ()):
                if item not in seen:
                    seen.add(item)
                    hits.append(_hit(index, rid, item, "prompt", {"prompt": text[:200]}))
    if index.lsh is not None:
        best: dict[int, float] = {}
        for text in users:
            sh = index.prompt_shingles(text)
            if sh == {b""}:
                continue
            for unit in index.lsh.query(index.minhash(sh)):
                other = index.shingle_sets[unit]
                jac = len(sh & other) / len(sh | other)
                item = index.units[unit][0]
                if jac >= cfg.near_threshold and jac > best.get(item, 0.0):
                    best[item] = jac
        for item, jac in sorted(best.items()):
            hits.append(_hit(index, rid, item, "near", {"jaccard": round(jac, 4)}))
    return hits


def embedding_hits(index: EvalIndex, ids: list[str], prompts: list[str]) -> list[list[dict]]:
    """Level 3 hits of a batch of pool prompts (cosine of unit embeddings, best 5 eval turns)."""
    vecs = index.encode(prompts)
    sims, units = index.faiss.search(vecs, min(5, len(index.units)))
    out: list[list[dict]] = []
    for rid, row_s, row_u in zip(ids, sims, units, strict=True):
        best: dict[int, float] = {}
        for s, u in zip(row_s, row_u, strict=True):
            item = index.units[int(u)][0] if u >= 0 else -1
            if item >= 0 and s >= index.cfg.embed_threshold and s > best.get(item, -1.0):
                best[item] = float(s)
        out.append(
            [_hit(index, rid, i, "embedding", {"cosine": round(c, 4)}) for i, c in best.items()]
        )
    return out


def _hit(index: EvalIndex, rid: str, item: int, level: str, evidence: dict) -> dict:
    it = index.items[item]
    return {
        "pool_id": rid,
        "eval_file": it.file,
        "eval_id": it.id,
        "level": level,
        "evidence": evidence,
        "eval_prompt": it.prompt[:200],
    }


def decontaminate_pool(
    pool: Path | str,
    against: list[Path | str],
    out: Path | str,
    config: DecontaminateConfig | None = None,
    overwrite: bool = False,
) -> DecontaminateSummary:
    """Check ``pool`` against the eval pools ``against``; write the pool without hit records
    (all records with ``keep_hits``) to ``out``, every hit to ``OUT.hits.jsonl`` and the stage
    manifest to ``OUT.decontaminate.json``. Skipped when the manifest says nothing changed.

    Memory: the eval side (its n-grams, shingle sets, signatures, embeddings) plus one batch.
    """
    from instructmine.atomic import OutputPathError, atomic_open, refuse_overwriting_inputs
    from instructmine.io.pool import PoolWriter, iter_pool, require_records
    from instructmine.stage import Stage

    cfg = config or DecontaminateConfig()
    out, hits_path, manifest = output_paths(out)
    refuse_overwriting_inputs([out, hits_path, manifest], [pool, *against])
    inputs = {"pool": pool} | {f"eval:{i}:{Path(a).name}": a for i, a in enumerate(against)}
    models = {"embed_model": cfg.embed_model} if cfg.embed else {}
    stage = Stage(
        "decontaminate", STAGE_VERSION, cfg.model_dump(), inputs, [out, hits_path], models
    )
    done = stage.done(manifest)
    if done is not None:
        return DecontaminateSummary.from_dict(done)
    if out.exists() and not manifest.exists() and not overwrite:
        raise OutputPathError(
            f"{out} exists and was not written by `instructmine decontaminate`; "
            "pass --overwrite to replace it, or choose another -o"
        )
    require_records(pool, "decontaminate")
    index = EvalIndex(list(against), cfg)
    summary = DecontaminateSummary(
        str(pool), str(out), str(hits_path), [str(a) for a in against], config=cfg.model_dump()
    )
    summary.eval_items, summary.short_eval_prompts = len(index.items), index.short
    hits_n: Counter = Counter()
    level_records: Counter = Counter()
    by_eval: dict[str, Counter] = {str(a): Counter() for a in against}
    writer = PoolWriter(out)
    try:
        with atomic_open(hits_path, "wb") as fh:
            for batch in iter_pool(pool, batch_size=cfg.batch_size):
                ids = batch.column("id").to_pylist()
                msgs = batch.column("messages").to_pylist()
                per = [record_hits(index, r, m) for r, m in zip(ids, msgs, strict=True)]
                if index.faiss is not None:
                    prompts = ["\n\n".join(turns(m)[0]) for m in msgs]
                    for hs, eh in zip(per, embedding_hits(index, ids, prompts), strict=True):
                        hs.extend(eh)
                keep = np.ones(len(ids), dtype=bool)
                for i, hs in enumerate(per):
                    if not hs:
                        continue
                    summary.records_hit += 1
                    keep[i] = cfg.keep_hits
                    for h in hs:
                        hits_n[h["level"]] += 1
                        fh.write(orjson.dumps(h) + b"\n")
                    for level in {h["level"] for h in hs}:
                        level_records[level] += 1
                    for file, level in {(h["eval_file"], h["level"]) for h in hs}:
                        by_eval[file][level] += 1
                summary.records += len(ids)
                writer.write(batch.filter(pa.array(keep)))
        summary.removed = 0 if cfg.keep_hits else summary.records_hit
    except BaseException:
        writer.abort()
        raise
    writer.close()
    summary.hits = {lv: hits_n[lv] for lv in LEVELS}
    summary.records_by_level = {lv: level_records[lv] for lv in LEVELS}
    summary.by_eval = {f: {lv: c[lv] for lv in LEVELS} for f, c in by_eval.items()}
    stage.write(manifest, summary.to_dict())
    return summary


def print_summary(summary: DecontaminateSummary, console: Any = None) -> None:
    """Rich table: records hit per eval file and level."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=f"Contamination of {summary.pool} ({summary.records:,} records)")
    table.add_column("eval set")
    for lv in LEVELS:
        table.add_column(lv, justify="right")
    for file, counts in summary.by_eval.items():
        table.add_row(file, *(f"{counts.get(lv, 0):,}" for lv in LEVELS))
    console.print(table)
    console.print(
        f"records hit: {summary.records_hit:,}; removed: {summary.removed:,}; "
        f"kept: {summary.kept:,}\npool: {summary.out}\nhits: {summary.hits_path}"
    )
