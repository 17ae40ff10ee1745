"""Run indicators over a pool in one process: streamed, length-sorted, cached, resumable.

For each window of records streamed from the pool Parquet (``ParquetFile.iter_batches``), every
indicator skips the records already in its cache, sorts the rest by its length key (less padding
in model batches), scores them chunk by chunk and writes each finished chunk as an atomic part
file (``runners/parts.py``). Record indicators' scores are cached per record; pool indicators
(kNN) cache per-record state (embeddings) and compute their scores over the whole pool at the
end. Each indicator's result is written to ``OUT/<indicator>.parquet`` (``id`` + its columns,
in pool order, provenance in the file's metadata).

The cache is keyed by (indicator, version, result-affecting params, model fingerprint, record
id), so a re-run with the same settings skips finished work, a killed run resumes where it
stopped, and changing a parameter or model starts a fresh cache entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from instructmine.indicators.base import Indicator, check_scores, examples_from_batch
from instructmine.indicators.state import RunState
from instructmine.io.pool import iter_pool, pool_ids
from instructmine.runners.parts import PartStore
from instructmine.storage import Location, as_ref, open_output

META_KEY = b"instructmine"


class ScoringError(RuntimeError):
    """An indicator failed on some records (the message names the pool, indicator and ids)."""


def cache_root(out_dir: Location, ind: Indicator) -> tuple[Location, dict[str, Any]]:
    """Cache folder of an indicator (pool indicators: of its per-record state) and its info.

    Keys hold the model's content fingerprint, so re-trained weights never reuse old scores.
    """
    from instructmine.fingerprint import digest_json, model_fingerprint

    if ind.kind == "pool":
        state = {**ind.state_key(), "fingerprint": model_fingerprint(ind.model_name)}
        return out_dir / "cache" / f"{ind.registry_name}-state-{digest_json(state)}", state
    return out_dir / "cache" / f"{ind.name}-{ind.cache_key()}", ind.provenance()


def run_local(
    pool: Path | str,
    indicators: Sequence[Indicator],
    out_dir: Path | str,
    *,
    window: int = 2048,
    chunk_size: int = 64,
    progress: bool = True,
    on_chunk: Callable[[str, int], None] | None = None,
    threads: int | None = None,
) -> dict[str, Path | str]:
    """Score ``pool`` with ``indicators`` into ``out_dir``; return each indicator's output file.

    ``out_dir`` is a local folder or a pyarrow URI (``s3://bucket/prefix``, see
    :func:`instructmine.storage.open_output`); files on a URI are returned as URI strings.

    The run owns one :class:`~instructmine.indicators.state.RunState` (models and memos shared
    by its indicators); nothing is kept after it returns. ``window`` records are read and
    length-sorted at a time; ``chunk_size`` records make one cached part.
    ``on_chunk(indicator, n)`` is called after each finished chunk. ``threads`` sets torch's
    intra-op threads (on a machine shared with other jobs, 1 thread can be faster than spinning
    OpenMP threads over busy cores).
    """
    pool, out_dir = as_ref(pool), open_output(out_dir)
    plan = plan_run(pool, indicators, out_dir)
    ids, stores, done, todo = plan.ids, plan.stores, plan.done, plan.todo
    state = RunState()
    pending = plan.pending()
    with _torch_threads(threads), _progress(progress) as bar:
        for ind in pending:
            ind.setup(state)
        tasks = {
            ind.name: bar.add_task(ind.name, total=len(ids), completed=len(ids) - todo[ind.name])
            for ind in indicators
        }
        if pending:
            for batch in iter_pool(pool, batch_size=window, columns=["id", "messages"]):
                for ind in pending:

                    def advance(k: int, name: str = ind.name) -> None:
                        bar.advance(tasks[name], k)
                        if on_chunk is not None:
                            on_chunk(name, k)

                    score_window(
                        pool, ind, batch, done[ind.name], stores[ind.name], chunk_size, advance
                    )
        outputs = {}
        for ind in indicators:
            outputs[ind.name] = finish(pool, ind, ids, stores[ind.name], out_dir)
    return outputs


@dataclass
class RunPlan:
    """What a run must do: the pool's ids, each indicator's cache and finished / pending ids."""

    ids: pa.Array
    indicators: Sequence[Indicator]
    stores: dict[str, PartStore]
    done: dict[str, pa.Array]
    todo: dict[str, int]

    def pending(self) -> list[Indicator]:
        """Indicators with records left to score."""
        return [ind for ind in self.indicators if self.todo[ind.name]]


def plan_run(pool: Path | str, indicators: Sequence[Indicator], out_dir: Location) -> RunPlan:
    """Open every indicator's cache in ``out_dir`` and count what is left (any runner)."""
    names = [ind.name for ind in indicators]
    if len(set(names)) != len(names):
        raise ValueError(f"indicator listed twice: {names}")
    ids = pool_ids(pool)
    if len(ids) == 0:
        raise ScoringError(f"{pool}: the pool has no records; nothing to score")
    out_dir.mkdir()
    stores, done, todo = {}, {}, {}
    for ind in indicators:
        root, info = cache_root(out_dir, ind)
        stores[ind.name] = PartStore(root, info)
        done[ind.name] = stores[ind.name].done_ids()
        cached = pc.sum(pc.is_in(ids, value_set=done[ind.name])).as_py() or 0
        todo[ind.name] = len(ids) - int(cached)
    return RunPlan(ids, indicators, stores, done, todo)


@contextmanager
def _torch_threads(threads: int | None):
    """Set torch's intra-op thread count for the block (no-op when None)."""
    if threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def score_window(
    pool: Path | str,
    ind: Indicator,
    batch: pa.RecordBatch | pa.Table,
    done: pa.Array,
    store: PartStore,
    chunk_size: int,
    advance: Callable[[int], None],
    *,
    by_content: bool = False,
) -> None:
    """Score the records of ``batch`` not in ``done``, length-sorted, one cached part a chunk.

    ``by_content`` names parts by their ids (a retried batch rewrites the same parts).
    """
    todo = batch.filter(pc.invert(pc.is_in(batch.column("id"), value_set=done)))
    if todo.num_rows == 0:
        return
    try:
        examples = examples_from_batch(todo)
    except ValueError as err:
        raise ScoringError(f"{pool}: {err}") from None
    order = np.argsort(np.asarray(ind.sort_key(examples)), kind="stable")
    for start in range(0, len(order), chunk_size):
        idx = order[start : start + chunk_size]
        chunk = [examples[i] for i in idx]
        try:
            if ind.kind == "record":
                cols = check_scores(ind, ind.score(chunk), len(chunk))
            else:
                vec = np.asarray(ind.embed(chunk), dtype=np.float32)
                cols = {"vector": pa.FixedSizeListArray.from_arrays(vec.ravel(), vec.shape[1])}
        except Exception as err:
            shown = ", ".join(repr(e.id) for e in chunk[:3])
            raise ScoringError(
                f"{pool}: indicator {ind.name!r} failed on a chunk of {len(chunk)} records "
                f"(first ids {shown}): {type(err).__name__}: {err}"
            ) from err
        table = pa.table({"id": pa.array([e.id for e in chunk], pa.string()), **cols})
        store.write(table, by_content=by_content)
        advance(len(chunk))


def _in_pool_order(ids: pa.Array, table: pa.Table, what: str) -> pa.Table:
    """Rows of ``table`` (keyed by id) in the pool's order; every pool id must be present.

    Ids cached for records no longer in the pool are ignored; a record cached twice (which the
    atomic part writes never produce) takes its first copy.
    """
    pos = pc.index_in(ids, value_set=table.column("id"))
    missing = pos.null_count
    if missing:
        raise ScoringError(f"{what}: {missing} records have no score after the run")
    return table.take(pos)


def finish(
    pool: Path | str, ind: Indicator, ids: pa.Array, store: PartStore, out_dir: Location
) -> Path | str:
    """Write ``OUT/<indicator>.parquet`` from the cache, in pool order, with provenance."""
    what = f"{pool}: indicator {ind.name!r}"
    cached = store.read()
    if cached is None:
        cached = pa.table({"id": pa.array([], pa.string())})
    if ind.kind == "record":
        result = _in_pool_order(ids, cached, what).select(["id", *ind.columns])
    else:
        ordered = _in_pool_order(ids, cached, what)
        flat = ordered.column("vector").combine_chunks()
        vectors = flat.values.to_numpy(zero_copy_only=False).reshape(len(ids), flat.type.list_size)
        cols = check_scores(ind, ind.finalize(vectors), len(ids))
        result = pa.table({"id": ids, **cols})
    meta = {"pool": str(pool), **ind.provenance()}
    result = result.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})
    dest = out_dir / f"{ind.name}.parquet"
    dest.write_table(result)
    return as_ref(dest.uri)


def cached_chunks(out_dir: Path | str) -> int:
    """How many finished chunks the score cache under ``out_dir`` holds (all indicators)."""
    import pyarrow.fs as pafs

    cache = open_output(out_dir) / "cache"
    selector = pafs.FileSelector(cache.path, allow_not_found=True, recursive=True)
    infos = cache.fs.get_file_info(selector)
    return sum(1 for i in infos if i.base_name.startswith("part-") and i.path.endswith(".parquet"))


def _progress(enabled: bool):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.speed
            return Text(f"{speed:,.1f} rec/s" if speed else "- rec/s", style="cyan")

    from instructmine.progress import progress_bars

    return progress_bars(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        enabled=enabled,
    )
