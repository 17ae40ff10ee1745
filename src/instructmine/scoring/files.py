"""The files a scoring run writes, read back: score tables, the joined pool, stored embeddings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from instructmine import atomic

MANIFEST = "scores.json"


def load_scores(files: Mapping[str, Path | str]) -> pa.Table:
    """One table: ``id`` plus every indicator's columns (files must share the pool order).

    Files may be local paths or pyarrow URIs (``s3://...``).
    """
    from instructmine.storage import open_output

    table = None
    for name, path in files.items():
        t = open_output(path).read_table()
        if table is None:
            table = t
            continue
        if not t.column("id").equals(table.column("id")):
            raise ValueError(f"{path}: ids differ from the other score files ({name})")
        for col in t.column_names:
            if col != "id":
                table = table.append_column(col, t.column(col))
    if table is None:
        raise ValueError("no score files given")
    return table


def files_from_dir(out_dir: Path | str) -> dict[str, Path | str]:
    """The score files recorded in ``out_dir/scores.json`` (a folder or a URI)."""
    from instructmine.storage import as_ref, open_output

    manifest = open_output(as_ref(out_dir)) / MANIFEST
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest} not found: run `instructmine score` into that folder")
    files = json.loads(manifest.read_bytes().decode("utf-8"))["files"]
    return {k: as_ref(v) for k, v in files.items()}


def join_pool(
    pool: Path | str, files: Mapping[str, Path | str], dest: Path | str, batch_rows: int = 8192
) -> Path:
    """Write ``pool`` with every indicator column appended (streamed; ids checked row by row)."""
    from instructmine.io.pool import open_pool

    pool, dest = Path(pool), Path(dest)
    scores = load_scores(files)
    pf = open_pool(pool)
    if pf.metadata.num_rows != scores.num_rows:
        raise ValueError(
            f"{pool} has {pf.metadata.num_rows} records but the scores cover {scores.num_rows}; "
            "score this pool first"
        )
    atomic.refuse_overwriting_inputs([dest], [pool, *files.values()])
    writer = None
    offset = 0
    with atomic.atomic_path(dest) as tmp:
        try:
            for batch in pf.iter_batches(batch_size=batch_rows):
                part = scores.slice(offset, batch.num_rows)
                if not part.column("id").combine_chunks().equals(batch.column("id")):
                    raise ValueError(
                        f"{pool}: record order differs from the score files at {offset}"
                    )
                out = pa.Table.from_batches([batch])
                for col in part.column_names[1:]:
                    out = out.append_column(col, part.column(col))
                if writer is None:
                    writer = pq.ParquetWriter(tmp, out.schema)
                writer.write_table(out)
                offset += batch.num_rows
        finally:
            if writer is not None:
                writer.close()
    return dest


def read_embeddings(out_dir: Path | str, indicator: str = "knn_6") -> tuple[pa.Array, np.ndarray]:
    """The per-record vectors a pool indicator (kNN) computed in a scoring run, in pool order.

    Returns ``(ids, vectors [n, d] float32)`` read from the run's cache, so selection's
    diversity filter reuses them instead of embedding the pool again. Raises
    ``FileNotFoundError`` naming what to run when the run did not compute them.
    """
    from instructmine.indicators.registry import create
    from instructmine.runners.local import META_KEY, cache_root
    from instructmine.runners.parts import PartStore
    from instructmine.storage import as_ref, open_output

    out_dir = as_ref(out_dir)
    files = files_from_dir(out_dir)
    if indicator not in files:
        have = ", ".join(files) or "none"
        raise FileNotFoundError(
            f"{out_dir}: no {indicator!r} scores (this run has: {have}); score the pool with "
            f"`instructmine score POOL -o {out_dir} -i {indicator}`"
        )
    result = open_output(files[indicator]).read_table()
    meta = json.loads(result.schema.metadata[META_KEY])
    ind = create(indicator, **meta["params"])
    if ind.kind != "pool":
        raise ValueError(f"{indicator!r} is a record indicator; it stores no embeddings")
    root, _ = cache_root(open_output(out_dir), ind)
    table = PartStore(root, {}).read() if (root / "cache.json").exists() else None
    if table is None:
        raise FileNotFoundError(
            f"{out_dir}: the embeddings behind {indicator!r} are not in the cache (the model "
            "changed since, or the cache was removed); score the pool again"
        )
    ids = result.column("id").combine_chunks()
    import pyarrow.compute as pc

    pos = pc.index_in(ids, value_set=table.column("id"))
    if pos.null_count:
        raise FileNotFoundError(f"{out_dir}: {pos.null_count} records have no cached embedding")
    flat = table.column("vector").combine_chunks().take(pos)
    dim = flat.type.list_size
    vectors = flat.values.to_numpy(zero_copy_only=False).reshape(len(ids), dim)
    return ids, np.ascontiguousarray(vectors, dtype=np.float32)
