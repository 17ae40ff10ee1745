"""`instructmine score` and `instructmine indicators` through real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from helpers_indicators import alpaca_records, write_pool

from shared_paths import REPO

CLI = [sys.executable, "-c", "from instructmine.cli import main; main()"]  # this checkout
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=ENV, timeout=600, check=False
    )


def test_indicators_listing_json():
    res = run("indicators", "--json")
    assert res.returncode == 0, res.stderr
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    assert {"mtld", "perplexity", "ifd", "reward", "knn_<k>"} <= set(rows)
    assert rows["perplexity"]["model_status"] == "offline substitute"


def test_score_join_and_summary(tmp_path, tiny_llama_dir):
    pool = write_pool(tmp_path / "pool.parquet", alpaca_records(12))
    joined = tmp_path / "scored.parquet"
    res = run(
        "score", str(pool), "-o", str(tmp_path / "s"), "-i", "mtld", "-i", "output_length",
        "-p", f"output_length.tokenizer={tiny_llama_dir}", "--join", str(joined), "--no-progress",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    for word in ("Summary", "mean", "Pearson correlation", "output_length", "mtld"):
        assert word in res.stdout
    table = pq.read_table(joined)
    assert table.column_names == ["id", "source", "category", "messages", "meta", "mtld",
                                  "output_length"]  # fmt: skip
    assert table.num_rows == 12
    manifest = json.loads((tmp_path / "s" / "scores.json").read_text())
    assert manifest["provenance"]["output_length"]["model_name"] == str(tiny_llama_dir)
    assert manifest["stats"]["mtld"]["n"] == 12


def test_score_bad_inputs_exit_with_reason(tmp_path):
    pool = write_pool(tmp_path / "pool.parquet", alpaca_records(3))
    res = run("score", str(pool), "-o", str(tmp_path / "s"), "-i", "perplexty")
    assert res.returncode == 2 and "Did you mean 'perplexity'" in res.stderr  # a setting: 2
    res = run("score", str(pool), "-o", str(tmp_path / "s"), "-i", "mtld", "-p", "mtld.nope=1")
    assert res.returncode == 2 and "nope" in res.stderr
    res = run("score", str(pool), "-o", str(tmp_path / "s"), "-i", "reward")
    assert res.returncode == 1 and "none ships offline" in res.stderr
    res = run("score", str(tmp_path / "missing.parquet"), "-o", str(tmp_path / "s"))
    assert res.returncode == 1 and "no such pool file" in " ".join(res.stderr.split())


def test_score_on_an_empty_pool_says_so_plainly(tmp_path):
    from typer.testing import CliRunner

    from instructmine.cli import app
    from instructmine.io import ingest
    from instructmine.io.pool import pool_ids, write_subset
    from shared_paths import FIXTURES

    full = tmp_path / "full.parquet"
    ingest([FIXTURES / "dolly_3k.json"], full)
    assert len(pool_ids(full)) > 0
    empty = tmp_path / "empty.parquet"
    write_subset(full, [], empty)
    r = CliRunner().invoke(app, ["score", str(empty), "-o", str(tmp_path / "s"), "-i", "mtld"])
    assert r.exit_code == 1
    assert "holds no records" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "s" / "mtld.parquet").exists()


@pytest.mark.parametrize(
    "args, name",
    [
        (["--window", "0"], "--window"),
        (["--chunk-size", "0"], "--chunk-size"),
        (["--threads", "-1"], "--threads"),
    ],
)
def test_out_of_range_options_get_a_one_line_usage_error(tmp_path, args, name):
    from typer.testing import CliRunner

    from instructmine.cli import app

    pool = tmp_path / "pool.parquet"
    pool.write_bytes(b"")  # never read: the option is refused first
    r = CliRunner().invoke(app, ["score", str(pool), "-o", str(tmp_path / "s"), *args])
    assert r.exit_code == 2
    assert name in r.output and "Traceback" not in r.output
    assert not (tmp_path / "s").exists()


def test_score_json_summary_is_the_whole_stdout(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from instructmine.io import ingest
    from instructmine.io.pool import pool_ids
    from shared_paths import FIXTURES, REPO

    pool = tmp_path / "pool.parquet"
    ingest([FIXTURES / "dolly_3k.json"], pool)
    r = subprocess.run(
        [sys.executable, "-c", "from instructmine.cli import main; main()", "score", str(pool)]
        + ["-o", str(tmp_path / "s"), "-i", "mtld", "--json"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO / "src")),
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["n_records"] == len(pool_ids(pool)) > 0 and set(doc["files"]) == {"mtld"}


def test_piped_score_prints_no_progress_bars(tmp_path):
    import os
    import subprocess
    import sys

    from instructmine.io import ingest
    from shared_paths import FIXTURES, REPO

    pool = tmp_path / "pool.parquet"
    ingest([FIXTURES / "dolly_3k.json"], pool)
    r = subprocess.run(
        [sys.executable, "-c", "from instructmine.cli import main; main()", "score", str(pool)]
        + ["-o", str(tmp_path / "s"), "-i", "mtld"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO / "src")),
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "mtld" in r.stdout  # the summary table
    assert "rec/s" not in r.stdout and "rec/s" not in r.stderr  # no bars when piped


def test_piped_help_is_not_padded_to_the_piped_width():
    env = {k: v for k, v in ENV.items() if k != "COLUMNS"}
    r = subprocess.run(
        [*CLI, "score", "--help"], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert "--indicator" in r.stdout or "-i" in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 300  # piped tables go wider
