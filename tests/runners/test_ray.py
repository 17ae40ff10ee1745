"""The Ray runner on a real two-node loopback cluster: same files as the local runner, the same
cache and resume, a killed scoring actor loses and duplicates nothing, and the CLI flag."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "indicators"))
from helpers_indicators import EDGE_CASES, alpaca_records, write_pool

from instructmine.indicators.registry import create
from instructmine.runners.local import run_local
from instructmine.runners.ray_runner import RayScoreOptions, run_ray
from shared_paths import run_cli

CHEAP = ("input_length", "output_length", "mtld")


def _options(cluster) -> RayScoreOptions:
    # zero CPUs + one node slot: one actor per node, the nodes' CPU left to the read tasks
    return RayScoreOptions(
        address=cluster.address, actors=2, num_cpus=0, resources={"node_slot": 1}
    )


def _cheap(tiny_llama_dir):
    return [create(n, tokenizer=str(tiny_llama_dir)) for n in CHEAP[:2]] + [create("mtld")]


def _assert_same(a: dict[str, Path], b: dict[str, Path]) -> None:
    assert sorted(a) == sorted(b)
    for name in a:
        ta, tb = pq.read_table(a[name]), pq.read_table(b[name])
        assert ta.equals(tb), name
        assert ta.schema.metadata == tb.schema.metadata, name


def _parts(out: Path, name: str) -> list[Path]:
    return sorted((out / "cache").glob(f"{name}-*/part-*.parquet"))


def test_ray_scores_equal_local_and_resume(ray_cluster, tmp_path, tiny_llama_dir):
    records = alpaca_records(30) + EDGE_CASES
    pool = write_pool(tmp_path / "pool.parquet", records)
    inds = [*_cheap(tiny_llama_dir), create("perplexity", model=str(tiny_llama_dir))]
    local = run_local(pool, inds, tmp_path / "local", window=8, chunk_size=4, progress=False)
    seen: list[tuple[str, int]] = []
    ray_out = run_ray(
        pool,
        inds,
        tmp_path / "ray",
        options=_options(ray_cluster),
        window=8,
        chunk_size=4,
        on_chunk=lambda name, n: seen.append((name, n)),
    )
    _assert_same(local, ray_out)
    for ind in inds:
        assert sum(n for name, n in seen if name == ind.name) == len(records)
    before = {ind.name: _parts(tmp_path / "ray", ind.name) for ind in inds}
    assert all(sum(pq.read_table(p).num_rows for p in ps) == len(records) for ps in before.values())
    # a second run (local or Ray) finds everything cached and scores nothing
    again: list = []
    run_ray(pool, inds, tmp_path / "ray", options=_options(ray_cluster), on_chunk=again.append)
    assert again == []
    assert {ind.name: _parts(tmp_path / "ray", ind.name) for ind in inds} == before


def test_killed_actor_mid_run_loses_and_duplicates_nothing(ray_cluster, tmp_path, tiny_llama_dir):
    records = [{**r, "id": f"{r['id']}-{i}"} for i, r in enumerate(alpaca_records(30) * 20)]
    pool = write_pool(tmp_path / "pool.parquet", records)
    inds = [create("mtld"), create("perplexity", model=str(tiny_llama_dir))]
    # same window and chunk: model scores depend on batch padding in float32's last bits
    local = run_local(pool, inds, tmp_path / "local", window=32, chunk_size=8, progress=False)
    out_dir = tmp_path / "ray"
    at_kill: list[int] = []

    def kill_the_worker_nodes_actor() -> None:
        while not finished.is_set():  # no clock: a loaded machine only makes it slower
            parts = _parts(out_dir, "perplexity")
            actors = ray_cluster.worker_processes("MapWorker")
            if parts and actors:
                at_kill.append(sum(pq.read_table(p).num_rows for p in parts))
                actors[0].send_signal(signal.SIGKILL)
                return
            time.sleep(0.02)

    finished = threading.Event()
    killer = threading.Thread(target=kill_the_worker_nodes_actor)
    killer.start()
    try:
        out = run_ray(pool, inds, out_dir, options=_options(ray_cluster), window=32, chunk_size=8)
    finally:
        finished.set()
        killer.join()
    assert at_kill and at_kill[0] < len(records), "the kill did not land mid-run"
    _assert_same(local, out)
    for ind in inds:
        ids = [i for p in _parts(out_dir, ind.name) for i in pq.read_table(p)["id"].to_pylist()]
        assert len(ids) == len(set(ids)) == len(records)


def test_cli_runner_flag(ray_cluster, tmp_path):
    pool = write_pool(tmp_path / "pool.parquet", alpaca_records(12))
    env = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}
    args = ["score", pool, "-o", tmp_path / "s", "-i", "mtld", "--json", "--runner", "ray"]
    bad = run_cli(*args, "--ray-resource", "node_slot", env=env)
    assert bad.returncode == 2 and "NAME=AMOUNT" in bad.stderr
    address = ["--ray-address", ray_cluster.address]
    ok = run_cli(*args, *address, "--ray-cpus", "0", "--ray-resource", "node_slot=1", env=env)
    assert ok.returncode == 0, ok.stderr
    local = run_local(pool, [create("mtld")], tmp_path / "l", progress=False)
    assert pq.read_table(tmp_path / "s" / "mtld.parquet").equals(pq.read_table(local["mtld"]))


def test_without_ray_the_error_names_the_extra(tmp_path):
    pool = write_pool(tmp_path / "pool.parquet", alpaca_records(3))
    blocker = tmp_path / "noray"
    blocker.mkdir()
    (blocker / "ray.py").write_text("raise ImportError(\"No module named 'ray'\")\n")
    src = Path(__file__).resolve().parents[2] / "src"
    res = run_cli(
        "score",
        pool,
        "-o",
        tmp_path / "s",
        "-i",
        "mtld",
        "--runner",
        "ray",
        env={"PYTHONPATH": f"{blocker}:{src}"},
    )
    assert res.returncode == 1
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "pip install 'instructmine[ray]'" in lines[0], res.stderr
    assert not (tmp_path / "s").exists()
