"""Statistics of a pool for ``instructmine inspect``: counts, lengths, turns, samples.

Computed streaming over record batches with Arrow compute; per-record lengths are kept as
NumPy int arrays (8 bytes per record per statistic) to get exact quantiles.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from instructmine.io.pool import iter_pool, require_records

QUANTILES = (0.5, 0.9, 0.99)


@dataclass
class PoolStats:
    """Summary statistics of a pool (lengths in characters)."""

    path: str
    records: int = 0
    by_source: Counter = field(default_factory=Counter)
    by_category: Counter = field(default_factory=Counter)
    by_source_category: Counter = field(default_factory=Counter)
    turns: Counter = field(default_factory=Counter)  # number of messages -> records
    with_system: int = 0
    lengths: dict[str, dict[str, float]] = field(default_factory=dict)
    samples: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "path": self.path,
            "records": self.records,
            "by_source": dict(self.by_source),
            "by_category": {str(k): v for k, v in self.by_category.items()},
            "turns": {str(k): v for k, v in sorted(self.turns.items())},
            "with_system": self.with_system,
            "lengths": self.lengths,
            "samples": self.samples,
        }


def _describe(values: np.ndarray) -> dict[str, float]:
    if not len(values):
        return {}
    qs = np.quantile(values, QUANTILES)
    out = {"mean": float(values.mean()), "min": float(values.min()), "max": float(values.max())}
    out.update({f"p{int(q * 100)}": float(v) for q, v in zip(QUANTILES, qs, strict=True)})
    return out


def pool_stats(path: Path | str, samples: int = 3, seed: int = 0) -> PoolStats:
    """Count records per source/category, measure prompt/response lengths and turns, and
    draw ``samples`` records uniformly (reservoir sampling, deterministic by ``seed``)."""
    stats = PoolStats(str(path))
    prompt_len, response_len = [], []
    rng = random.Random(seed)
    reservoir: list[dict] = []
    require_records(path, "inspect")
    for batch in iter_pool(path, columns=["id", "source", "category", "messages"]):
        n = batch.num_rows
        src = batch.column("source").to_pylist()
        cat = batch.column("category").to_pylist()
        stats.by_source.update(src)
        stats.by_category.update(cat)
        stats.by_source_category.update(zip(src, cat, strict=True))
        msgs = batch.column("messages")
        offsets = np.asarray(msgs.offsets)
        flat = msgs.flatten()
        clen = np.asarray(pc.utf8_length(flat.field("content")).fill_null(0), dtype=np.int64)
        roles = np.asarray(flat.field("role").to_numpy(zero_copy_only=False))
        totals = np.add.reduceat(clen, offsets[:-1]) if len(clen) else np.zeros(n, np.int64)
        last = clen[offsets[1:] - 1]  # ingest guarantees the last turn is the response
        response_len.append(last)
        prompt_len.append(totals - last)
        stats.turns.update((offsets[1:] - offsets[:-1]).tolist())
        stats.with_system += int((roles[offsets[:-1]] == "system").sum())
        for i in range(n):
            k = stats.records + i
            j = k if k < samples else rng.randint(0, k)
            if j < samples:
                row = {"id": batch.column("id")[i].as_py(), "source": src[i], "category": cat[i]}
                row["messages"] = msgs[i].as_py()
                if k < samples:
                    reservoir.append(row)
                else:
                    reservoir[j] = row
        stats.records += n
    if stats.records:
        stats.lengths = {
            "prompt_chars": _describe(np.concatenate(prompt_len)),
            "response_chars": _describe(np.concatenate(response_len)),
        }
    stats.samples = reservoir
    return stats


def print_stats(stats: PoolStats, console=None, width: int = 300) -> None:
    """Rich tables: per source x category counts, lengths, turns, then the samples."""
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    console = console or Console()
    t = Table(title=f"{stats.path}: {stats.records:,} records")
    for col in ("source", "category", "records", "share"):
        t.add_column(col, justify="right" if col in ("records", "share") else "left")
    for (src, cat), n in sorted(stats.by_source_category.items(), key=lambda kv: -kv[1]):
        t.add_row(src, cat or "-", f"{n:,}", f"{n / max(stats.records, 1):.1%}")
    console.print(t)
    lt = Table(title="Lengths (characters)")
    lt.add_column("")
    keys = ("mean", "min", "p50", "p90", "p99", "max")
    for k in keys:
        lt.add_column(k, justify="right")
    for name, d in stats.lengths.items():
        lt.add_row(name, *(f"{d.get(k, 0):,.0f}" for k in keys))
    console.print(lt)
    tt = Table(title="Turns per record")
    tt.add_column("messages", justify="right")
    tt.add_column("records", justify="right")
    for k, v in sorted(stats.turns.items()):
        tt.add_row(str(k), f"{v:,}")
    console.print(tt)
    console.print(f"records with a system turn: {stats.with_system:,}")
    for s in stats.samples:
        body = "\n".join(
            f"[bold]{m['role']}[/]: {escape(_clip(m['content'], width))}" for m in s["messages"]
        )
        title = escape(f"{s['id']} · {s['source']} · {s['category'] or '-'}")
        console.print(Panel(body, title=title, expand=False))


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width] + "…"
