"""The Ray runner reading the pool from and writing the scores to S3 (moto on loopback), on
the two-node loopback cluster: the same tables as a local run, and a re-run scores nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "indicators"))
from helpers_indicators import alpaca_records, write_pool

from instructmine.indicators.registry import create
from instructmine.runners.local import run_local
from instructmine.runners.ray_runner import RayScoreOptions, run_ray
from instructmine.storage import open_output
from s3_server import CREDENTIALS


def test_ray_runner_on_s3_equals_local_and_resumes(ray_cluster, s3_server, tmp_path):
    import ray

    pool = write_pool(tmp_path / "pool.parquet", alpaca_records(30))
    open_output(s3_server.uri("ray/pool.parquet")).write_bytes(pool.read_bytes())
    local = run_local(pool, [create("mtld")], tmp_path / "local", window=8, progress=False)
    want = pq.read_table(local["mtld"])
    options = RayScoreOptions(
        address=ray_cluster.address, actors=2, num_cpus=0, resources={"node_slot": 1}
    )
    # credentials reach the workers as a user gives them: env vars on the nodes or the job's
    ray.init(
        address=ray_cluster.address,
        runtime_env={"env_vars": CREDENTIALS},
        log_to_driver=False,
        include_dashboard=False,
    )
    try:
        seen: list[int] = []
        uri, src = s3_server.uri("ray/scores"), s3_server.uri("ray/pool.parquet")
        kw = {"options": options, "window": 8, "chunk_size": 4}
        out = run_ray(src, [create("mtld")], uri, on_chunk=lambda _, n: seen.append(n), **kw)
        assert sum(seen) == 30
        got = open_output(out["mtld"]).read_table()
        assert got.equals(want)
        assert sum("/part-" in k for k in s3_server.keys("ray/scores/cache")) == 8
        again: list[int] = []
        run_ray(src, [create("mtld")], uri, on_chunk=lambda _, n: again.append(n), **kw)
        assert again == []
    finally:
        ray.shutdown()
