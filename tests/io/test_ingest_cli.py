"""The ingest / inspect / export / dedup verbs, run as real subprocesses."""

from __future__ import annotations

import json

from helpers_io import load_records, read_jsonl

from instructmine.io import read_pool
from shared_paths import FIXTURES, run_cli


def cli(*args, cwd=None):
    """This checkout's CLI (the installed console script may belong to another checkout)."""
    return run_cli(*args, cwd=cwd)


def test_ingest_inspect_export_dedup(tmp_path):
    pool = tmp_path / "pool.parquet"
    srcs = [FIXTURES / "alpaca_5000.json", FIXTURES / "p3_ag_news.jsonl.gz"]
    r = cli("ingest", *srcs, "-o", pool, "--source", "alpaca", "--source", "p3", "--category", "x")
    assert r.returncode == 0, r.stderr
    assert "Ingest summary" in r.stdout and "p3_ag_news.jsonl.gz" in r.stdout
    rows = read_pool(pool).to_pylist()
    n_alpaca = len(load_records(srcs[0]))
    assert [r["source"] for r in rows] == ["alpaca"] * n_alpaca + ["p3"] * (len(rows) - n_alpaca)
    assert json.loads(pool.with_name("pool.ingest.json").read_text())["kept"] == len(rows)

    r = cli("inspect", pool, "--json", "--samples", "2")
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert stats["records"] == len(rows) and stats["by_source"]["alpaca"] == n_alpaca
    assert len(stats["samples"]) == 2 and stats["turns"] == {"2": len(rows)}
    r = cli("inspect", pool)
    assert r.returncode == 0 and "Lengths (characters)" in r.stdout

    r = cli("export", pool, "-o", tmp_path / "out.jsonl", "--format", "messages")
    assert r.returncode == 0, r.stderr
    assert [x["messages"] for x in read_jsonl(tmp_path / "out.jsonl")] == [
        x["messages"] for x in rows
    ]

    dup = tmp_path / "dup.json"
    raw = load_records(srcs[0])
    dup.write_text(json.dumps(raw + raw[:3]))
    cli("ingest", dup, "-o", tmp_path / "dup.parquet")
    r = cli("dedup", tmp_path / "dup.parquet", "-o", tmp_path / "dd.parquet", "--method", "exact")
    assert r.returncode == 0, r.stderr
    assert read_pool(tmp_path / "dd.parquet").num_rows == len(raw)
    clusters = read_jsonl(tmp_path / "dd.clusters.jsonl")
    assert len(clusters) == 3 and all(len(c["duplicates"]) == 1 for c in clusters)


def test_strict_exits_non_zero_with_file_and_line(tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"instruction": "Q", "output": "A"}\n{"instruction": "Q", "output": 5}\n')
    r = cli("ingest", src, "-o", tmp_path / "p.parquet", "--strict")
    assert r.returncode == 1
    assert f"{src}:2" in r.stderr.replace("\n", "") and "must be a string" in r.stderr
    assert not (tmp_path / "p.parquet").exists()
    r = cli("ingest", src, "-o", tmp_path / "p.parquet")
    assert r.returncode == 0
    assert read_jsonl(tmp_path / "p.rejects.jsonl")[0]["line"] == 2


def test_usage_errors(tmp_path):
    r = cli("ingest", tmp_path / "missing.json", "-o", tmp_path / "p.parquet", "--strict")
    assert r.returncode == 1 and "no such file" in r.stderr
    r = cli(
        "ingest", FIXTURES / "alpaca_5000.json", "-o", tmp_path / "p.parquet", "--format", "bogus"
    )
    assert r.returncode == 2 and "unknown format" in r.stderr
    r = cli("inspect", tmp_path / "nothing.parquet")
    assert r.returncode == 1 and "no such pool file" in r.stderr
    empty = tmp_path / "e.jsonl"
    empty.write_text("")
    r = cli("ingest", empty, "-o", tmp_path / "p.parquet")
    assert r.returncode == 1 and "empty" in r.stdout + r.stderr
