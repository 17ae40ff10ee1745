"""Rank records by predicted log loss with memory flat in pool size: batch-sorted runs written
to disk, then a k-way merge (hierarchical when there are many runs).

Runs and intermediate merges are Arrow IPC files of small record batches (``budget_rows /
FAN_IN`` rows), read one batch at a time (no memory map, so touched pages are not kept), and a
merge of k runs holds about k small batches: ~``budget_rows`` rows whatever the pool size. (They
were Parquet files of one row group per run; a Parquet reader decodes a whole row group, so a
merge of k runs held k × ``budget_rows`` rows: the whole pool, up to FAN_IN runs.)
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FAN_IN = 64
MIN_GROUP = 256


def group_rows(budget_rows: int) -> int:
    """Record-batch size of runs and merge files: a merge of FAN_IN of them holds ~ the budget."""
    return max(MIN_GROUP, budget_rows // FAN_IN)


def _write_ipc(path: Path, tables: Iterable[pa.Table], group: int) -> None:
    writer = None
    with pa.OSFile(str(path), "wb") as sink:
        for t in tables:
            if writer is None:
                writer = pa.ipc.new_file(sink, t.schema)
            writer.write_table(t, max_chunksize=group)
        if writer is not None:
            writer.close()


def _read_ipc(path: Path, rows: int) -> Iterable[pa.RecordBatch]:
    """The batches of an IPC file, combined into batches of about ``rows`` rows, one at a time."""
    with pa.OSFile(str(path), "rb") as source:
        reader = pa.ipc.open_file(source)
        pending: list[pa.RecordBatch] = []
        count = 0
        for i in range(reader.num_record_batches):
            b = reader.get_batch(i)
            pending.append(b)
            count += b.num_rows
            if count >= rows:
                yield pa.Table.from_batches(pending).combine_chunks().to_batches()[0]
                pending, count = [], 0
        if pending:
            yield pa.Table.from_batches(pending).combine_chunks().to_batches()[0]


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
    batches: Iterable[tuple[pa.Array, np.ndarray]],
    folder: Path,
    progress=None,
    group: int = MIN_GROUP,
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
        path = folder / f"run-{len(runs):06d}.arrow"
        _write_ipc(path, [table], group)
        runs.append(path)
        start += len(pred)
        nan += int(np.isnan(pred).sum())
        if progress is not None:
            progress(len(pred))
    return runs, start, nan


def _merge(runs: list[Path], budget_rows: int) -> Iterable[pa.Table]:
    """Merged, ordered tables from sorted runs, holding about ``budget_rows`` rows at a time."""
    chunk = max(MIN_GROUP, budget_rows // max(1, len(runs)))
    live: list[_Run] = []
    for path in runs:
        r = _Run(_read_ipc(path, chunk), None, None, None)
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
    """Merge sorted runs into ``dest``: the ranking (Parquet, 1-based ``rank`` added) with
    ``with_rank``, else an intermediate run (Arrow IPC, small batches)."""
    if not with_rank:
        count = [0]

        def counted() -> Iterable[pa.Table]:
            for t in _merge(runs, budget_rows):
                count[0] += t.num_rows
                yield t

        _write_ipc(dest, counted(), group_rows(budget_rows))
        return count[0]
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
        runs, n, nan = write_runs(batches, folder, progress, group_rows(budget_rows))
        level = 0
        while len(runs) > FAN_IN:  # merge in groups so few files are open at once
            level += 1
            merged = []
            for i in range(0, len(runs), FAN_IN):
                path = folder / f"merge-{level}-{i // FAN_IN:06d}.arrow"
                merge_runs(runs[i : i + FAN_IN], path, budget_rows, with_rank=False)
                for r in runs[i : i + FAN_IN]:
                    r.unlink()
                merged.append(path)
            runs = merged
        merge_runs(runs, dest, budget_rows, with_rank=True)
    return n, nan
