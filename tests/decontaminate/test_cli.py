"""``instructmine decontaminate`` end to end in a subprocess, and its one-line errors."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from tests.decontaminate.test_audit import files  # noqa: F401 (fixture)

from shared_paths import run_cli


def test_cli_end_to_end_json(files):  # noqa: F811
    pool, ev, tmp = files
    r = run_cli("decontaminate", pool, "--against", ev, "-o", tmp / "clean.parquet", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["records"] == 7 and doc["removed"] == 3 and doc["kept"] == 4
    assert pq.read_table(tmp / "clean.parquet").num_rows == 4
    assert (tmp / "clean.hits.jsonl").read_text().count("\n") >= 3
    assert (tmp / "clean.decontaminate.json").exists()
    r = run_cli(
        "decontaminate",
        pool,
        "--against",
        ev,
        "-o",
        tmp / "rep.parquet",
        "--keep-hits",
        "--set",
        "ngram=8",
    )
    assert r.returncode == 0, r.stderr
    assert pq.read_table(tmp / "rep.parquet").num_rows == 7
    assert "records hit: 3" in r.stdout


def test_cli_bad_inputs_are_one_line_errors(files):  # noqa: F811
    pool, ev, tmp = files
    cases = [
        (("--against", tmp / "nope.parquet"), "nope.parquet"),
        (("--against", ev, "--set", "ngrams=8"), "ngram"),
        (("--against", ev, "--set", "near_threshold=2"), "near_threshold"),
    ]
    for extra, named in cases:
        r = run_cli("decontaminate", pool, *extra, "-o", tmp / "x.parquet")
        assert r.returncode != 0
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and named in lines[0], r.stderr
    (tmp / "mine.parquet").write_text("a user's file")
    r = run_cli("decontaminate", pool, "--against", ev, "-o", tmp / "mine.parquet")
    assert r.returncode != 0 and "--overwrite" in r.stderr
    assert (tmp / "mine.parquet").read_text() == "a user's file"
    r = run_cli("decontaminate", pool, "--against", ev, "-o", tmp / "mine.parquet", "--overwrite")
    assert r.returncode == 0, r.stderr
    assert not (tmp / "x.parquet").exists()
