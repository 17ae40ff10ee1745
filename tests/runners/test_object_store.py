"""Scoring into object storage (a real moto S3 server on loopback): same files as a local run,
a re-run scores nothing, an interrupted run resumes with nothing lost or duplicated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "indicators"))
from helpers_indicators import alpaca_records, write_pool

from instructmine.indicators.registry import create
from instructmine.runners.local import run_local
from instructmine.scoring import score_pool
from instructmine.storage import open_output

CLI = [str(Path(sys.executable).parent / "instructmine")]
NAMES = ["mtld", "input_length", "output_length"]


@pytest.fixture
def pool(tmp_path) -> Path:
    return write_pool(tmp_path / "pool.parquet", alpaca_records(30))


def _params(tok: Path) -> dict:
    return {"input_length": {"tokenizer": str(tok)}, "output_length": {"tokenizer": str(tok)}}


def _counter():
    calls: list[int] = []
    return calls, lambda name, n: calls.append(n)


def test_s3_outputs_equal_local_and_rerun_scores_nothing(s3_server, pool, tmp_path, tiny_llama_dir):
    kw = {"indicators": NAMES, "params": _params(tiny_llama_dir), "progress": False}
    local = score_pool(pool, tmp_path / "local", chunk_size=8, **kw)
    uri = s3_server.uri("scores")
    remote = score_pool(pool, uri, chunk_size=8, **kw)
    assert not remote.skipped and remote.stats == local.stats
    for name in NAMES:
        assert remote.files[name].startswith(f"s3://{s3_server.bucket}/scores/{name}.parquet?")
        got = open_output(remote.files[name]).read_table()
        want = pq.read_table(local.files[name])
        assert got.equals(want) and got.schema.metadata == want.schema.metadata, name
    keys = s3_server.keys("scores")
    assert f"{s3_server.bucket}/scores/scores.json" in keys
    assert sum("/part-" in k for k in keys) == 3 * 4  # 30 records in chunks of 8, 3 indicators
    assert not [k for k in keys if "/.tmp-" in k]

    assert score_pool(pool, uri, chunk_size=8, **kw).skipped  # manifest digests matched
    calls, cb = _counter()
    inds = [create(n, **_params(tiny_llama_dir).get(n, {})) for n in NAMES]
    out = run_local(pool, inds, uri, progress=False, on_chunk=cb)
    assert calls == []  # every record came from the parts in the bucket
    assert open_output(out["mtld"]).read_table().equals(pq.read_table(local.files["mtld"]))


class _Stop(Exception):
    pass


def test_interrupted_s3_run_resumes_without_loss_or_duplicates(s3_server, pool, tmp_path):
    reference = pq.read_table(
        run_local(pool, [create("mtld")], tmp_path / "ref", progress=False)["mtld"]
    )
    uri = s3_server.uri("interrupted")

    def stop_after_three(name: str, n: int, seen: list[int] = []) -> None:  # noqa: B006
        seen.append(n)
        if len(seen) == 3:
            raise _Stop

    with pytest.raises(_Stop):
        run_local(
            pool, [create("mtld")], uri, chunk_size=4, progress=False, on_chunk=stop_after_three
        )
    keys = s3_server.keys("interrupted")
    assert sum("/part-" in k for k in keys) == 3
    assert not [k for k in keys if k.endswith("mtld.parquet")]

    calls, cb = _counter()
    out = run_local(pool, [create("mtld")], uri, chunk_size=4, progress=False, on_chunk=cb)
    assert sum(calls) == 30 - 3 * 4
    store_ids = []
    for key in s3_server.keys("interrupted/cache"):
        if "/part-" in key:
            part = open_output(s3_server.uri(key.split("/", 1)[1])).read_table()
            store_ids += part.column("id").to_pylist()
    assert sorted(store_ids) == sorted(reference.column("id").to_pylist())  # none lost or twice
    assert open_output(out["mtld"]).read_table().equals(reference)


def test_cli_reads_the_pool_from_s3_and_names_a_missing_bucket(s3_server, pool, tmp_path):
    open_output(s3_server.uri("in/pool.parquet")).write_bytes(pool.read_bytes())
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [*CLI, "score", s3_server.uri("in/pool.parquet"), "-i", "mtld", "--no-progress"]
    res = subprocess.run([*cmd, "-o", s3_server.uri("cli")], capture_output=True, text=True,
                         env=env, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    got = open_output(s3_server.uri("cli/mtld.parquet")).read_table()
    want = pq.read_table(run_local(pool, [create("mtld")], tmp_path / "l", progress=False)["mtld"])
    assert got.column("mtld").equals(want.column("mtld"))

    missing = s3_server.uri("cli").replace(s3_server.bucket, "no-such-bucket")
    res = subprocess.run([*cmd, "-o", missing], capture_output=True, text=True, env=env,
                         timeout=300)  # fmt: skip
    assert res.returncode != 0
    assert "s3://no-such-bucket/" in res.stderr and "create the bucket" in res.stderr


def test_location_keeps_the_uri_options_and_names_a_bad_scheme():
    from instructmine.storage import StorageError

    loc = open_output("s3://bucket/scores/?endpoint_override=127.0.0.1:9&scheme=http")
    part = loc / "cache" / "part-1.parquet"
    assert (part.path, str(part)) == (
        "bucket/scores/cache/part-1.parquet",
        "s3://bucket/scores/cache/part-1.parquet?endpoint_override=127.0.0.1:9&scheme=http",
    )
    with pytest.raises(StorageError, match=r"nope://x/y: pyarrow cannot open this URI.*s3://"):
        open_output("nope://x/y")
