"""Pool files on disk: build canonical record batches, write them, read them back streaming."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from instructmine.io.errors import PoolError
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
    """Write record batches to ``path`` atomically (a hidden temporary renamed on close)."""

    def __init__(self, path: Path) -> None:
        from instructmine.atomic import OutputPathError, temporary_sibling

        self.path = Path(path)
        if self.path.is_dir():
            raise OutputPathError(f"{self.path} is a folder; give a pool file path to write")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = temporary_sibling(self.path)
        self.rows = 0
        try:
            self._writer = pq.ParquetWriter(self._tmp, SCHEMA, compression="zstd")
        except BaseException:  # Ctrl-C after the file was created: leave nothing behind
            self._tmp.unlink(missing_ok=True)
            raise

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Append a batch (one Parquet row group per batch)."""
        if batch.num_rows:
            self._writer.write(batch)
            self.rows += batch.num_rows

    def close(self) -> None:
        """Finish the file and move it into place."""
        self.finish()
        self.commit()

    def finish(self) -> None:
        """Finish the file under its temporary name (:meth:`commit` moves it into place)."""
        self._writer.close()

    def commit(self) -> None:
        """Move the finished file into place (replacing the old one)."""
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Drop the partial file (even when closing the interrupted writer fails)."""
        try:
            self._writer.close()
        except Exception:  # a write cut short by Ctrl-C can leave the writer unclosable
            pass
        finally:
            self._tmp.unlink(missing_ok=True)


REQUIRED = ("id", "source", "messages")


def _type_problem(name: str, typ: pa.DataType) -> str | None:
    """Why a column's type is not the canonical one (None when it is)."""
    if name in ("id", "source"):
        ok = pa.types.is_string(typ) or pa.types.is_large_string(typ)
        return None if ok else f"column {name!r} is {typ}, expected string"
    if not (pa.types.is_list(typ) or pa.types.is_large_list(typ)):
        return f"column 'messages' is {typ}, expected a list of {{role, content}} structs"
    item = typ.value_type
    if not pa.types.is_struct(item):
        return f"column 'messages' holds {item}, expected {{role, content}} structs"
    fields = {item.field(i).name: item.field(i).type for i in range(item.num_fields)}
    for key in ("role", "content"):
        t = fields.get(key)
        if t is None or not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            return f"column 'messages' turns need a string {key!r} field, found {fields}"
    return None


def open_pool(path: Path | str) -> pq.ParquetFile:
    """Open a pool Parquet file, checking it is one: the one opener every stage uses.

    ``path`` may also be a pyarrow URI (``s3://bucket/pool.parquet``).
    Raises :class:`PoolError` naming the file and the fix for a missing file, a file that is
    not Parquet, or missing / mistyped canonical columns (``id``, ``source``, ``messages``).
    """
    from instructmine.storage import is_uri, open_output

    source = path
    if is_uri(str(path)):  # object storage: s3://bucket/pool.parquet
        loc = open_output(str(path))
        if not loc.is_file():
            raise PoolError(f"{path}: no such pool file (check the URI, or upload the pool)")
        source = loc.fs.open_input_file(loc.path)
    else:
        path = Path(path)
        if not path.is_file():
            what = "is a folder, not a pool file" if path.is_dir() else "no such pool file"
            raise PoolError(f"{path}: {what} (make a pool with `instructmine ingest`)")
        source = path
    try:
        pf = pq.ParquetFile(source)
    except Exception as e:  # pyarrow raises ArrowInvalid / OSError for non-Parquet files
        raise PoolError(
            f"{path}: not a Parquet pool file ({e}); make one with `instructmine ingest`"
        ) from None
    schema = pf.schema_arrow
    missing = [n for n in REQUIRED if n not in schema.names]
    if missing:
        raise PoolError(
            f"{path}: not an instructmine pool (missing columns {missing}); "
            "make one with `instructmine ingest`"
        )
    for name in REQUIRED:
        problem = _type_problem(name, schema.field(name).type)
        if problem:
            raise PoolError(f"{path}: {problem}; re-create it with `instructmine ingest`")
    return pf


def require_records(path: Path | str, doing: str) -> pq.ParquetFile:
    """:func:`open_pool`, and a :class:`PoolError` when the pool holds no records.

    ``doing`` completes "there is nothing to ..." in the message (e.g. ``"score"``), so every
    verb given an empty pool says so in one line naming the file and the fix.
    """
    pf = open_pool(path)
    if pf.metadata.num_rows == 0:
        raise PoolError(
            f"{path}: the pool holds no records, so there is nothing to {doing}; "
            f"ingest data into it first (instructmine ingest DATA -o {path})"
        )
    return pf


def pool_ids(path: Path | str) -> pa.Array:
    """A pool's ids in pool order, checked present and unique (ids key caches and joins)."""
    import pyarrow.compute as pc

    ids = read_pool(path, ["id"]).column("id").combine_chunks()
    if ids.null_count:
        raise PoolError(f"{path}: {ids.null_count} records have no id; re-ingest the pool")
    counts = pc.value_counts(ids)
    dup = pc.filter(counts, pc.greater(counts.field("counts"), 1))
    if len(dup):
        raise PoolError(
            f"{path}: record id {dup[0]['values'].as_py()!r} occurs {dup[0]['counts'].as_py()} "
            f"times ({len(dup)} repeated ids); ids must be unique: re-ingest the pool, or "
            "deduplicate it with `instructmine dedup`"
        )
    return ids


def iter_pool(
    path: Path | str, batch_size: int = 10_000, columns: Sequence[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """Stream a pool's record batches (memory bounded by ``batch_size``)."""
    pf = open_pool(path)
    batches = pf.iter_batches(batch_size=batch_size, columns=list(columns) if columns else None)
    while True:
        try:
            batch = next(batches, None)
        except (OSError, pa.ArrowException) as e:  # a corrupt page (ZSTD, snappy, header)
            raise _damaged(path, e) from None
        if batch is None:
            return
        yield batch


def _damaged(path: Path | str, e: Exception) -> PoolError:
    detail = " ".join(str(e).split())[:200]
    return PoolError(
        f"{path}: the pool file is damaged ({detail}); re-create it with `instructmine ingest`"
    )


def read_pool(path: Path | str, columns: Sequence[str] | None = None) -> pa.Table:
    """Read a whole pool (or some of its columns) as an Arrow table."""
    try:
        return open_pool(path).read(columns=list(columns) if columns else None)
    except (OSError, pa.ArrowException) as e:
        raise _damaged(path, e) from None


def pool_rows(path: Path | str) -> int:
    """Number of records in a pool (from the Parquet footer, without reading data)."""
    return open_pool(path).metadata.num_rows


def write_subset(
    pool: Path | str, ids: Sequence[str] | pa.Array, out: Path | str, batch_size: int = 10_000
) -> int:
    """Write the records of ``pool`` whose id is in ``ids`` to the pool file ``out``, streamed.

    Records keep the pool's order and every column of the pool. Every id must be in the pool
    and listed once; otherwise :class:`PoolError` names the first offenders and nothing is
    written. Returns the number of records written.
    """
    import pyarrow.compute as pc

    from instructmine.atomic import atomic_path, refuse_overwriting_inputs

    refuse_overwriting_inputs([out], [pool])
    wanted = pa.array(list(ids) if not isinstance(ids, pa.Array) else ids, pa.string())
    counts = pc.value_counts(wanted)
    dup = pc.filter(counts, pc.greater(counts.field("counts"), 1))
    if len(dup):
        raise PoolError(f"write_subset: id {dup[0]['values'].as_py()!r} is listed more than once")
    pf = open_pool(pool)
    found = 0
    with atomic_path(out) as tmp:
        writer = pq.ParquetWriter(tmp, pf.schema_arrow, compression="zstd")
        try:
            for batch in pf.iter_batches(batch_size=batch_size):
                keep = batch.filter(pc.is_in(batch.column("id"), value_set=wanted))
                if keep.num_rows:
                    writer.write_batch(keep)
                    found += keep.num_rows
        finally:
            writer.close()
        if found != len(wanted):
            have = pool_ids(pool)
            absent = pc.filter(wanted, pc.invert(pc.is_in(wanted, value_set=have)))
            shown = ", ".join(repr(x) for x in absent.to_pylist()[:3])
            raise PoolError(
                f"write_subset: {len(absent)} of {len(wanted)} ids are not in {pool} (e.g. {shown})"
            )
    return found
