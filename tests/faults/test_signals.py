"""SIGINT and SIGKILL at seeded random points of ``score`` and ``mix build`` (issue 31, fault
suite): after each, every output that existed before is byte for byte as it was, or the new
run's outputs are complete; a SIGINT prints one line and exits 130; a killed run's leftovers
are cleaned or reused by the next run."""

from __future__ import annotations

import random
import signal

import pyarrow.parquet as pq
import pytest
import yaml
from fault_helpers import leftovers, one_line_error, run, signal_during, snapshot

from instructmine.schema import table_from_records


def _pool(path, n, salt=""):
    recs = [
        {
            "id": f"r{salt}{i}",
            "source": "s",
            "messages": [
                {"role": "user", "content": f"Question {salt}{i}?"},
                {"role": "assistant", "content": " ".join(f"w{(i * j) % 997}" for j in range(60))},
            ],
        }
        for i in range(n)
    ]
    pq.write_table(table_from_records(recs), path)
    return path


def _rows(path):
    return pq.read_metadata(path).num_rows


def _outputs_kept_or_new(out, before, new_ok):
    """Every output that existed before is byte for byte as it was, or (when any changed)
    the new run's outputs are complete (``new_ok``); a run's cache of finished chunks may grow."""
    now = {k: v for k, v in snapshot(out).items() if "cache/" not in k}
    old = {k: v for k, v in before.items() if "cache/" not in k}
    if {k: now.get(k) for k in old} != old:
        assert new_ok(), (now, old)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_score_at_random_points(tmp_path, sig):
    old = _pool(tmp_path / "old.parquet", 200)
    new = _pool(tmp_path / "new.parquet", 6000, salt="n")
    out = tmp_path / "scores"
    args = ["score", "-o", out, "-i", "mtld", "--no-progress", "--chunk-size", "256"]
    assert run(args[0], old, *args[1:], cwd=tmp_path).returncode == 0
    before = snapshot(out)
    rng = random.Random(31 + sig)

    def parts():
        return set((out / "cache").rglob("*.parquet"))

    old_parts = parts()

    def started():  # the new run has finished a chunk of its own
        return bool(parts() - old_parts)

    for delay in sorted(rng.uniform(0.0, 1.5) for _ in range(2)):
        r = signal_during(
            args[0], new, *args[1:], cwd=tmp_path, sig=sig, delay=delay, started=started
        )
        _outputs_kept_or_new(out, before, lambda: _rows(out / "mtld.parquet") == 6000)
        if r.returncode == 0:
            break
        if sig == signal.SIGINT:
            assert r.returncode == 130, r.stderr
            assert one_line_error(r.stderr).startswith("interrupted:")
        else:
            assert r.returncode == -signal.SIGKILL
    r = run(args[0], new, *args[1:], cwd=tmp_path)  # resumes, then the new run is complete
    assert r.returncode == 0, r.stderr
    assert pq.read_metadata(out / "mtld.parquet").num_rows == 6000
    assert leftovers(out) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_mix_build_at_random_points(tmp_path, sig):
    a = _pool(tmp_path / "a.parquet", 30000, salt="a")
    b = _pool(tmp_path / "b.parquet", 30000, salt="b")
    spec = tmp_path / "mix.yaml"

    def write_spec(n):
        spec.write_text(
            yaml.safe_dump(
                {
                    "components": {
                        "a": {"pool": str(a), "category": "chat", "count": n},
                        "b": {"pool": str(b), "category": "code", "count": n},
                    }
                }
            )
        )

    out = tmp_path / "out"
    write_spec(10)
    assert run("mix", "build", spec, "-o", out / "mix.parquet", cwd=tmp_path).returncode == 0
    before = snapshot(out)
    write_spec(25000)
    delay = random.Random(7 + sig).uniform(0.0, 1.5)
    r = signal_during(
        "mix", "build", spec, "-o", out / "mix.parquet", cwd=tmp_path, sig=sig, delay=delay
    )
    _outputs_kept_or_new(out, before, lambda: _rows(out / "mix.parquet") == 50000)
    if r.returncode not in (0, -signal.SIGKILL):
        assert r.returncode in (1, 130) and "Traceback" not in r.stderr, r.stderr
    r = run("mix", "build", spec, "-o", out / "mix.parquet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert pq.read_metadata(out / "mix.parquet").num_rows == 50000
    assert leftovers(out) == []  # what a killed build left is cleaned by the next one
