"""The local runner: output per indicator in pool order, cache reuse, resume after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "indicators"))
from helpers_indicators import alpaca_records, write_pool

from instructmine.indicators.registry import create
from instructmine.io import PoolError
from instructmine.runners.local import ScoringError, run_local
from instructmine.schema import table_from_records

REPO = Path(__file__).resolve().parents[2]
CLI = [str(Path(sys.executable).parent / "instructmine")]


@pytest.fixture
def pool(tmp_path) -> Path:
    return write_pool(tmp_path / "pool.parquet", alpaca_records(30))


def counted():
    calls: list[tuple[str, int]] = []
    return calls, lambda name, n: calls.append((name, n))


def test_outputs_in_pool_order_and_rerun_skips_everything(pool, tmp_path):
    inds = [create("mtld"), create("mtld", threshold=0.6)]
    with pytest.raises(ValueError, match="listed twice"):
        run_local(pool, inds, tmp_path / "s", progress=False)
    calls, cb = counted()
    out = run_local(
        pool, [create("mtld")], tmp_path / "s", chunk_size=7, progress=False, on_chunk=cb
    )
    assert sum(n for _, n in calls) == 30 and len(calls) == 5
    first = pq.read_table(out["mtld"])
    assert first.column("id").to_pylist() == [f"alpaca-{i:03d}" for i in range(30)]
    calls2, cb2 = counted()
    out2 = run_local(pool, [create("mtld")], tmp_path / "s", progress=False, on_chunk=cb2)
    assert calls2 == []
    assert pq.read_table(out2["mtld"]).equals(first)


def test_changed_parameter_is_a_new_cache_entry(pool, tmp_path):
    run_local(pool, [create("mtld")], tmp_path / "s", progress=False)
    calls, cb = counted()
    out = run_local(
        pool, [create("mtld", threshold=0.6)], tmp_path / "s", progress=False, on_chunk=cb
    )
    assert sum(n for _, n in calls) == 30
    assert len(list((tmp_path / "s" / "cache").iterdir())) == 2
    assert pq.read_table(out["mtld"]).num_rows == 30


def test_lost_parts_are_recomputed_and_nothing_else(pool, tmp_path):
    out = run_local(pool, [create("mtld")], tmp_path / "s", chunk_size=4, progress=False)
    full = pq.read_table(out["mtld"])
    parts = sorted((tmp_path / "s" / "cache").glob("mtld-*/part-*.parquet"))
    lost = sum(pq.read_table(p).num_rows for p in parts[:3])
    for p in parts[:3]:
        p.unlink()
    (parts[0].parent / ".tmp-part-junk.parquet").write_bytes(b"half a file")
    calls, cb = counted()
    out = run_local(pool, [create("mtld")], tmp_path / "s", progress=False, on_chunk=cb)
    assert sum(n for _, n in calls) == lost
    assert pq.read_table(out["mtld"]).equals(full)
    assert not list(parts[0].parent.glob(".tmp-*"))


def test_pool_grown_later_scores_only_new_records(tmp_path):
    recs = alpaca_records(30)
    small = write_pool(tmp_path / "small.parquet", recs[:20])
    run_local(small, [create("mtld")], tmp_path / "s", progress=False)
    big = write_pool(tmp_path / "big.parquet", recs)
    calls, cb = counted()
    out = run_local(big, [create("mtld")], tmp_path / "s", progress=False, on_chunk=cb)
    assert sum(n for _, n in calls) == 10
    assert pq.read_table(out["mtld"]).num_rows == 30


def test_duplicate_ids_are_rejected(tmp_path):
    recs = alpaca_records(3)
    recs[2]["id"] = recs[0]["id"]
    pool = write_pool(tmp_path / "dup.parquet", recs)
    with pytest.raises(PoolError, match=f"{recs[0]['id']!r} occurs 2 times"):
        run_local(pool, [create("mtld")], tmp_path / "s", progress=False)


def test_record_without_response_names_file_and_record(tmp_path):
    recs = alpaca_records(3)
    recs[1]["messages"] = [{"role": "user", "content": "only a question"}]
    pool = write_pool(tmp_path / "bad.parquet", recs)
    with pytest.raises(ScoringError) as err:
        run_local(pool, [create("mtld")], tmp_path / "s", progress=False)
    assert str(pool) in str(err.value) and recs[1]["id"] in str(err.value)


def test_not_a_parquet_pool(tmp_path):
    bad = tmp_path / "pool.json"
    bad.write_text("[]")
    with pytest.raises(PoolError, match="not a Parquet pool"):
        run_local(bad, [create("mtld")], tmp_path / "s", progress=False)


def test_failing_indicator_names_records(pool, tmp_path, tiny_llama_dir):
    ind = create("perplexity", model=str(tiny_llama_dir), max_length=1)
    with pytest.raises(ScoringError, match="perplexity.*first ids 'alpaca-"):
        run_local(pool, [ind], tmp_path / "s", progress=False)


def _score_cmd(pool: Path, out: Path, model: Path) -> list[str]:
    return [
        *CLI, "score", str(pool), "-o", str(out), "-i", "perplexity", "-i", "mtld",
        "-p", f"perplexity.model={model}", "-p", "perplexity.batch_size=4",
        "--chunk-size", "4", "--window", "128", "--no-progress",
    ]  # fmt: skip


def test_sigkill_mid_run_then_resume_equals_uninterrupted(tmp_path, tiny_llama_dir):
    recs = [{**r, "id": f"{r['id']}-{rep}"} for rep in range(20) for r in alpaca_records(30)]
    pool = tmp_path / "pool.parquet"
    pq.write_table(table_from_records([{"source": "t", **r} for r in recs]), pool)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}

    ref = subprocess.run(_score_cmd(pool, tmp_path / "ref", tiny_llama_dir), env=env,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert ref.returncode == 0, ref.stderr

    out = tmp_path / "killed"
    proc = subprocess.Popen(_score_cmd(pool, out, tiny_llama_dir), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list(out.glob("cache/perplexity-*/part-*.parquet"))) >= 3:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    done = sum(pq.read_table(p).num_rows for p in out.glob("cache/perplexity-*/part-*.parquet"))
    assert 0 < done < len(recs)
    assert not (out / "perplexity.parquet").exists()

    again = subprocess.run(_score_cmd(pool, out, tiny_llama_dir), env=env,
                           capture_output=True, text=True, timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr
    for name in ("perplexity", "mtld"):
        resumed = pq.read_table(out / f"{name}.parquet")
        reference = pq.read_table(tmp_path / "ref" / f"{name}.parquet")
        assert resumed.num_rows == len(recs)
        assert resumed.column("id").to_pylist() == [r["id"] for r in recs]
        assert resumed.equals(reference), name
