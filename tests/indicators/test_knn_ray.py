"""A pool indicator (kNN) on the Ray runner: actors embed, the driver finalises; the output
equals the local runner's and every record's embedding is cached once."""

from __future__ import annotations

import pyarrow.parquet as pq
from helpers_indicators import alpaca_records, write_pool

from instructmine.indicators.registry import create
from instructmine.runners.local import run_local
from instructmine.runners.ray_runner import RayScoreOptions, run_ray


def test_knn_on_ray_equals_local(ray_cluster, tiny_st_dir, tmp_path):
    pool = write_pool(tmp_path / "pool.parquet", alpaca_records(24))
    opts = RayScoreOptions(
        address=ray_cluster.address, actors=2, num_cpus=0, resources={"node_slot": 1}
    )
    local = run_local(
        pool,
        [create("knn_3", model=str(tiny_st_dir))],
        tmp_path / "local",
        window=8,
        chunk_size=4,
        progress=False,
    )
    on_ray = run_ray(
        pool,
        [create("knn_3", model=str(tiny_st_dir))],
        tmp_path / "ray",
        options=opts,
        window=8,
        chunk_size=4,
    )
    a, b = pq.read_table(local["knn_3"]), pq.read_table(on_ray["knn_3"])
    assert a.equals(b) and a.schema.metadata == b.schema.metadata
    parts = sorted((tmp_path / "ray" / "cache").glob("knn-state-*/part-*.parquet"))
    ids = [i for p in parts for i in pq.read_table(p)["id"].to_pylist()]
    assert sorted(ids) == sorted(r["id"] for r in alpaca_records(24))
