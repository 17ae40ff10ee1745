"""Ranking streams: its peak memory is flat in pool size, where a whole-table sort grows with it.

Peak = Python allocations (tracemalloc; numpy arrays included) + Arrow allocations (a fresh
proxy of the default memory pool per measurement, so each has its own ``max_memory``). Both the
ranking and the baseline are measured the same way on pools of 20k and 200k records; the
baseline's growth shows that the measurement can see a pool held in memory.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers_rule import two_term_rule

from instructmine.rule.rank import rank_pool

BATCH = 16384
ROW_GROUP = 4096  # a score file's row group is read whole: the input's groups stay below BATCH


def _pool(path, n):
    rng = np.random.default_rng(n)
    ids = pa.array([f"rec-{i:08d}" for i in range(n)])
    t = pa.table({"id": ids, "reward": rng.normal(0, 1, n), "mtld": rng.normal(50, 10, n)})
    pq.write_table(t, path, row_group_size=ROW_GROUP)
    return path


def _whole_table_sort(scores, out, batch_rows):
    """The baseline: read the pool, predict, sort it all at once."""
    t = pq.read_table(scores)
    pred = two_term_rule().predict({c: t[c].to_numpy() for c in two_term_rule().columns})
    order = pa.array(np.lexsort((np.arange(len(pred)), pred)))
    pq.write_table(pa.table({"id": t["id"].take(order), "pred": pred[order.to_numpy()]}), out)


def _rank(scores, out, batch_rows):
    rank_pool(scores, two_term_rule(), out, batch_rows=batch_rows)


def _peak(fn, scores, out) -> int:
    """Peak Python + Arrow bytes of ``fn(scores, out, BATCH)``."""
    base = pa.default_memory_pool()
    proxy = pa.proxy_memory_pool(base)
    pa.set_memory_pool(proxy)
    tracemalloc.start()
    try:
        fn(scores, out, BATCH)
        py_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(base)
    return py_peak + proxy.max_memory()


@pytest.mark.parametrize("fn", [_rank, _whole_table_sort], ids=["rank", "whole_sort"])
def test_peak_memory_flat_in_pool_size(tmp_path, fn):
    warm = _pool(tmp_path / "warm.parquet", 3000)
    fn(warm, tmp_path / "warm-out.parquet", BATCH)  # imports and first-use caches, not measured
    small = _peak(fn, _pool(tmp_path / "small.parquet", 20_000), tmp_path / "small-out.parquet")
    large = _peak(fn, _pool(tmp_path / "large.parquet", 200_000), tmp_path / "large-out.parquet")
    ratio = large / small
    if fn is _rank:
        assert ratio < 2, f"rank peak {small} -> {large} bytes ({ratio:.1f}x) for 10x the pool"
    else:  # the measurement sees a pool held whole: the baseline grows with it
        assert ratio > 5, f"whole-table sort peak {small} -> {large} bytes ({ratio:.1f}x)"
