"""Pool files on disk: build canonical record batches, write them, read them back streaming."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from instructmine.io.errors import IngestError
from instructmine.io.ids import OccurrenceCounter, content_key, format_id
from instructmine.schema import MESSAGE_TYPE, SCHEMA, Message


class BatchBuilder:
    """Collect canonical records column by column and emit Arrow record batches.

    Messages are kept as flat role/content lists plus list offsets, so a batch is built with a
    handful of C-level array constructions instead of per-record Python dicts.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.keys: list[int] = []
        self.sources: list[str] = []
        self.categories: list[str | None] = []
        self.metas: list[str | None] = []
        self.offsets: list[int] = [0]
        self.roles: list[str] = []
        self.contents: list[str] = []
        self.chars = 0

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, source: str, category: str | None, messages: list[Message], meta: str | None):
        """Append one record (its id key is computed now, its occurrence suffix at flush)."""
        self.keys.append(content_key(source, messages))
        self.sources.append(source)
        self.categories.append(category)
        self.metas.append(meta)
        for m in messages:
            self.roles.append(m["role"])
            self.contents.append(m["content"])
            self.chars += len(m["content"])
        self.offsets.append(len(self.roles))

    def flush(self, counter: OccurrenceCounter) -> pa.RecordBatch:
        """Return the collected records as a batch in :data:`SCHEMA` and start a new one."""
        occurrences = counter.occurrences(np.array(self.keys, dtype=np.uint64))
        ids = [format_id(k, int(o)) for k, o in zip(self.keys, occurrences, strict=True)]
        turns = pa.StructArray.from_arrays(
            [pa.array(self.roles, pa.string()), pa.array(self.contents, pa.string())],
            fields=list(MESSAGE_TYPE),
        )
        offsets = pa.array(self.offsets, pa.int32())
        messages = pa.ListArray.from_arrays(offsets, turns, type=pa.list_(MESSAGE_TYPE))
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array(ids, pa.string()),
                pa.array(self.sources, pa.string()),
                pa.array(self.categories, pa.string()),
                messages,
                pa.array(self.metas, pa.string()),
            ],
            schema=SCHEMA,
        )
        self._reset()
        return batch


class PoolWriter:
    """Write record batches to ``path`` atomically (a ``.tmp`` file renamed on close)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self._writer = pq.ParquetWriter(self._tmp, SCHEMA, compression="zstd")
        self.rows = 0

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Append a batch (one Parquet row group per batch)."""
        if batch.num_rows:
            self._writer.write(batch)
            self.rows += batch.num_rows

    def close(self) -> None:
        """Finish the file and move it into place."""
        self._writer.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        self._writer.close()
        self._tmp.unlink(missing_ok=True)


def _check(path: Path) -> pq.ParquetFile:
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{path}: no such pool file (make one with `instructmine ingest`)")
    try:
        pf = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises ArrowInvalid / OSError for non-Parquet files
        raise IngestError(f"{path}: not a Parquet pool file ({e})") from e
    missing = [n for n in ("id", "source", "messages") if n not in pf.schema_arrow.names]
    if missing:
        raise IngestError(
            f"{path}: not an instructmine pool (missing columns {missing}); "
            "make one with `instructmine ingest`"
        )
    return pf


def iter_pool(
    path: Path | str, batch_size: int = 10_000, columns: Sequence[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """Stream a pool's record batches (memory bounded by ``batch_size``)."""
    pf = _check(Path(path))
    yield from pf.iter_batches(batch_size=batch_size, columns=list(columns) if columns else None)


def read_pool(path: Path | str, columns: Sequence[str] | None = None) -> pa.Table:
    """Read a whole pool (or some of its columns) as an Arrow table."""
    pf = _check(Path(path))
    return pf.read(columns=list(columns) if columns else None)


def pool_rows(path: Path | str) -> int:
    """Number of records in a pool (from the Parquet footer, without reading data)."""
    return _check(Path(path)).metadata.num_rows
