"""Rank records by predicted log loss with memory flat in pool size: batch-sorted runs written
to disk, then a k-way merge (hierarchical when there are many runs)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FAN_IN = 64


@dataclass
class _Run:
    """One sorted run being merged: a buffer of (key, row, id) and the rest of the file."""

    batches: Iterable[pa.RecordBatch]
    key: np.ndarray
    row: np.ndarray
    ids: pa.Array

    def refill(self) -> bool:
        b = next(self.batches, None)
        if b is None:
            return False
        self.key = _sort_key(b.column("predicted_log_loss").to_numpy().astype(float))
        self.row = b.column("row").to_numpy()
        self.ids = b.column("id")
        return True


def _sort_key(pred: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(pred), np.inf, pred)


def write_runs(
    batches: Iterable[tuple[pa.Array, np.ndarray]], folder: Path, progress=None
) -> tuple[list[Path], int, int]:
    """Sort each batch by (predicted loss, row) and write it as a run; NaN sorts last.

    Returns the run files, the number of records and the number with no prediction.
    """
    runs, start, nan = [], 0, 0
    for ids, pred in batches:
        rows = np.arange(start, start + len(pred), dtype=np.int64)
        order = np.lexsort((rows, _sort_key(pred)))
        table = pa.table(
            {
                "id": ids.take(pa.array(order)),
                "predicted_log_loss": pa.array(pred[order]),
                "row": pa.array(rows[order]),
            }
        )
        path = folder / f"run-{len(runs):06d}.parquet"
        pq.write_table(table, path)
        runs.append(path)
        start += len(pred)
        nan += int(np.isnan(pred).sum())
        if progress is not None:
            progress(len(pred))
    return runs, start, nan


def _merge(runs: list[Path], budget_rows: int) -> Iterable[pa.Table]:
    """Merged, ordered tables from sorted runs, holding about ``budget_rows`` rows at a time."""
    chunk = max(256, budget_rows // max(1, len(runs)))
    live: list[_Run] = []
    for path in runs:
        r = _Run(pq.ParquetFile(path).iter_batches(batch_size=chunk), None, None, None)
        if r.refill():
            live.append(r)
    while live:
        # Everything up to the smallest buffer tail is final: no later row can sort before it.
        tail = min(((r.key[-1], r.row[-1]) for r in live), default=None)
        keys = np.concatenate([r.key for r in live])
        rows = np.concatenate([r.row for r in live])
        ids = pa.concat_arrays([r.ids for r in live])
        take = (keys < tail[0]) | ((keys == tail[0]) & (rows <= tail[1]))
        sel = np.flatnonzero(take)
        order = sel[np.lexsort((rows[sel], keys[sel]))]
        yield pa.table(
            {
                "id": ids.take(pa.array(order)),
                "predicted_log_loss": pa.array(
                    np.where(np.isinf(keys[order]), np.nan, keys[order])
                ),
                "row": pa.array(rows[order]),
            }
        )
        nxt = []
        offset = 0
        for r in live:
            n = len(r.key)
            keep = ~take[offset : offset + n]
            offset += n
            if keep.any():
                idx = np.flatnonzero(keep)
                r.key, r.row, r.ids = r.key[idx], r.row[idx], r.ids.take(pa.array(idx))
                nxt.append(r)
            elif r.refill():
                nxt.append(r)
        live = nxt


def merge_runs(runs: list[Path], dest: Path, budget_rows: int, with_rank: bool) -> int:
    """Merge sorted runs into ``dest`` (Parquet); with ``with_rank`` add a 1-based ``rank``."""
    written = 0
    writer = None
    out: list[pa.Table] = []
    buffered = 0

    def flush() -> None:
        nonlocal writer, out, buffered
        if not out:
            return
        t = pa.concat_tables(out)
        if writer is None:
            writer = pq.ParquetWriter(dest, t.schema)
        writer.write_table(t)
        out, buffered = [], 0

    for t in _merge(runs, budget_rows):
        if with_rank:
            rank = pa.array(np.arange(written + 1, written + t.num_rows + 1, dtype=np.int64))
            t = t.add_column(0, "rank", rank)
        written += t.num_rows
        out.append(t)
        buffered += t.num_rows
        if buffered >= budget_rows:
            flush()
    flush()
    if writer is None:  # an empty pool
        schema = pa.schema(
            [
                ("rank", pa.int64()),
                ("id", pa.string()),
                ("predicted_log_loss", pa.float64()),
                ("row", pa.int64()),
            ]
        )
        pq.write_table(schema.empty_table(), dest)
    else:
        writer.close()
    return written


def external_sort(
    batches: Iterable[tuple[pa.Array, np.ndarray]],
    dest: Path,
    budget_rows: int = 65536,
    progress=None,
) -> tuple[int, int]:
    """Sort (id, predicted loss) batches into ``dest`` by loss then pool order; lower first.

    Memory holds about ``budget_rows`` rows at a time whatever the pool size. Returns the number
    of records and the number with no prediction (null scores; ranked last).
    """
    with tempfile.TemporaryDirectory(prefix=".rank-", dir=dest.parent) as tmp:
        folder = Path(tmp)
        runs, n, nan = write_runs(batches, folder, progress)
        level = 0
        while len(runs) > FAN_IN:  # merge in groups so few files are open at once
            level += 1
            merged = []
            for i in range(0, len(runs), FAN_IN):
                path = folder / f"merge-{level}-{i // FAN_IN:06d}.parquet"
                merge_runs(runs[i : i + FAN_IN], path, budget_rows, with_rank=False)
                for r in runs[i : i + FAN_IN]:
                    r.unlink()
                merged.append(path)
            runs = merged
        merge_runs(runs, dest, budget_rows, with_rank=True)
    return n, nan
