"""Ingest under faults (issue 31, items 2, 3 and 14): a failed, ``--strict``-stopped,
disk-full, interrupted or killed ingest keeps the previous pool, its rejects and its manifest
byte for byte and leaves no temporary; ``-o`` onto a file instructmine did not write is refused.
"""

from __future__ import annotations

import json
import random
import signal

import pytest
from fault_helpers import leftovers, one_line_error, run, signal_during, snapshot

GOOD = {"instruction": "Add two and two.", "input": "", "output": "Four."}


def _data(folder, n=40, bad=3, name="data.jsonl"):
    path = folder / name
    lines = [json.dumps({**GOOD, "output": f"Four, take {i}."}) for i in range(n)]
    lines[1:1] = ["{broken"] * bad
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def pool_dir(tmp_path):
    """A folder holding a finished pool, its rejects and manifest, and newer input data."""
    src = _data(tmp_path, name="old.jsonl")
    out = tmp_path / "out"
    r = run("ingest", src, "-o", out / "pool.parquet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert {p.name for p in out.iterdir()} == {
        "pool.parquet",
        "pool.rejects.jsonl",
        "pool.ingest.json",
    }
    return out


def _assert_kept(out, before):
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_strict_stop_keeps_previous_pool_rejects_and_manifest(tmp_path, pool_dir):
    before = snapshot(pool_dir)
    new = _data(tmp_path, n=10, bad=1, name="new.jsonl")
    r = run("ingest", new, "-o", pool_dir / "pool.parquet", "--strict", cwd=tmp_path)
    assert r.returncode == 1
    one_line_error(r.stderr)
    _assert_kept(pool_dir, before)


def test_failed_ingest_keeping_nothing_keeps_previous_rejects(tmp_path, pool_dir):
    before = snapshot(pool_dir)
    new = tmp_path / "junk.jsonl"
    new.write_text('{"a": 1}\n{"b": 2}\n')
    r = run("ingest", new, "-o", pool_dir / "pool.parquet", "--format", "alpaca", cwd=tmp_path)
    assert r.returncode == 1
    assert snapshot(pool_dir).items() >= before.items()  # the old three, byte for byte
    failed = pool_dir / "pool.failed.rejects.jsonl"  # why this run kept nothing
    assert failed.is_file() and str(failed) in r.stderr
    assert leftovers(pool_dir) == []


def test_disk_full_keeps_previous_pool(tmp_path, pool_dir):
    before = snapshot(pool_dir)
    big = tmp_path / "big.jsonl"
    rng = random.Random(0)
    with open(big, "w") as f:  # text that does not compress: the pool outgrows the limit
        for i in range(3000):
            f.write(json.dumps({**GOOD, "output": f"{i} {rng.randbytes(100).hex()}"}) + "\n")
    r = run("ingest", big, "-o", pool_dir / "pool.parquet", cwd=tmp_path, fsize=50_000)
    assert r.returncode == 1, r.stderr
    line = one_line_error(r.stderr)
    assert "disk" in line or "too large" in line or "space" in line, line
    _assert_kept(pool_dir, before)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_signal_at_random_points_keeps_old_or_new_whole(tmp_path, pool_dir, sig):
    """Seeded random points across an ingest; after each, every output is either the old file
    byte for byte or the new complete one; the next run cleans what a SIGKILL left."""
    big = tmp_path / "big.jsonl"
    with open(big, "w") as f:
        for i in range(20_000):
            f.write(json.dumps({**GOOD, "output": f"{i} " + "text " * 20}) + "\n")
    before = snapshot(pool_dir)
    names = ("pool.parquet", "pool.rejects.jsonl", "pool.ingest.json")
    rng = random.Random(31)

    def started():  # the ingest has begun writing (its temporaries exist)
        return any(p.name.startswith(".tmp-") for p in pool_dir.iterdir())

    for delay in sorted(rng.uniform(0.0, 1.0) for _ in range(3)):
        r = signal_during(
            "ingest",
            big,
            "-o",
            pool_dir / "pool.parquet",
            cwd=tmp_path,
            sig=sig,
            delay=delay,
            started=started,
        )
        now = snapshot(pool_dir)
        if r.returncode == 0:  # finished before the signal: the new outputs, complete
            assert all(now[n] != before[n] for n in names[:1])
            return
        if sig == signal.SIGINT:
            assert r.returncode == 130, r.stderr
            line = one_line_error(r.stderr)
            assert "is as it was" in line
            _assert_kept(pool_dir, before)
        else:
            assert r.returncode == -signal.SIGKILL
            assert {n: now[n] for n in names} == before  # temporaries may remain until ...
    r = run("ingest", big, "-o", pool_dir / "pool.parquet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert leftovers(pool_dir) == []  # ... the next run into the same OUT removes them


def test_output_onto_a_file_instructmine_did_not_write_is_refused(tmp_path):
    src = _data(tmp_path)
    other = tmp_path / "other_data.json"
    other.write_text(json.dumps([GOOD]))
    before = other.read_bytes()
    r = run("ingest", src, "-o", other, cwd=tmp_path)
    assert r.returncode == 1
    line = one_line_error(r.stderr)
    assert "not written by instructmine" in line and "--overwrite" in line
    assert other.read_bytes() == before
    r = run("ingest", src, "-o", other, "--overwrite", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run("ingest", src, "-o", other, cwd=tmp_path)  # now ours: re-running is fine
    assert r.returncode == 0, r.stderr
