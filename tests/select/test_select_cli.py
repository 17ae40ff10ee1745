"""``instructmine select`` as a real subprocess, ranking by a score folder's column."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from instructmine.io import ingest, read_pool
from instructmine.scoring import score_pool
from shared_paths import FIXTURES, run_cli

cli = run_cli


def test_select_by_a_score_folder_column_with_quota(tmp_path):
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text())
    (tmp_path / "a.json").write_text(json.dumps(recs))
    (tmp_path / "dolly.json").write_text((FIXTURES / "dolly_3k.json").read_text())
    pool = tmp_path / "pool.parquet"
    ingest([tmp_path / "a.json", tmp_path / "dolly.json"], pool)
    score_pool(pool, tmp_path / "scores", ["output_length"], progress=False)
    out = tmp_path / "sel.parquet"
    r = cli(
        "select",
        pool,
        "-o",
        out,
        "--top",
        12,
        "--by",
        "output_length",
        "--descending",
        "--scores",
        tmp_path / "scores",
        "--quota",
        "source=dolly:4",
    )
    assert r.returncode == 0, r.stderr
    assert "selected 12 of" in r.stdout and "quota" in r.stdout
    lengths = pq.read_table(tmp_path / "scores" / "output_length.parquet").to_pydict()
    src = dict(
        zip(read_pool(pool)["id"].to_pylist(), read_pool(pool)["source"].to_pylist(), strict=True)
    )
    want, dolly = [], 0
    for rid in sorted(
        lengths["id"], key=lambda i: (-lengths["output_length"][lengths["id"].index(i)], i)
    ):
        if src[rid] == "dolly":
            if dolly == 4:
                continue
            dolly += 1
        want.append(rid)
    manifest = json.loads((tmp_path / "sel.select.json").read_text())
    assert manifest["ids"] == want[:12]
    assert sorted(read_pool(out)["id"].to_pylist()) == sorted(want[:12])
    again = cli(
        "select",
        pool,
        "-o",
        out,
        "--top",
        12,
        "--by",
        "output_length",
        "--descending",
        "--scores",
        tmp_path / "scores",
        "--quota",
        "source=dolly:4",
    )
    assert "not re-run" in again.stdout
    bad = cli("select", pool, "-o", tmp_path / "x.parquet", "--top", 3, "--by", "nope")
    assert bad.returncode == 1 and "--scores DIR" in bad.stderr
