"""Every verb given an empty pool says so in one line naming the file and the fix, exits 1,
and leaves nothing behind; an output path that is a folder leaves no temporary (issue 12,
item 4). Real CLI runs in subprocesses on a real zero-record pool file."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from instructmine.schema import SCHEMA
from shared_paths import run_cli

RULE = {"name": "t", "intercept": 0.0, "terms": [{"aggregate": "mtld.mean", "coef": -0.1}]}


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def empty(tmp_path):
    path = tmp_path / "empty.parquet"
    pq.write_table(SCHEMA.empty_table(), path)
    return path


def _args(verb, empty, tmp):
    if verb == "train":
        return ["train", "--data", empty, "--out", tmp / "run"]
    if verb in ("dedup", "export"):
        return [verb, empty, "-o", tmp / f"out.{verb}"]
    if verb == "inspect":
        return ["inspect", empty]
    if verb == "select":
        return ["select", empty, "--top", "3", "-o", tmp / "top.parquet"]
    if verb == "rank":
        return ["rank", empty, "--rule", "paper-final", "-o", tmp / "ranked.parquet"]
    if verb == "mix build":
        spec = {"components": {"a": {"pool": str(empty), "count": 2, "category": "chat"}}}
        (tmp / "mix.yaml").write_text(yaml.safe_dump(spec))
        return ["mix", "build", tmp / "mix.yaml", "-o", tmp / "mix.parquet"]
    doc = {"objective": {"factory": "nope:nope"}, "out": str(tmp / "search"), "lo": 1}
    (tmp / "search.yaml").write_text(yaml.safe_dump({**doc, "hi": 9, "pool": str(empty)}))
    return ["search-size", tmp / "search.yaml"]


@pytest.mark.parametrize(
    "verb", ["train", "select", "rank", "mix build", "search-size", "dedup", "export", "inspect"]
)
def test_empty_pool_is_one_line_exit_1_and_nothing_written(tmp_path, empty, verb):
    args = _args(verb, empty, tmp_path)
    before = _tree(tmp_path)
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(empty) in lines[0] and "no records" in lines[0]
    assert "instructmine " in lines[0]  # the fix: which command makes what is missing
    assert _tree(tmp_path) == before


def test_rank_of_zero_score_rows_is_refused(tmp_path):
    cols = {"id": pa.array([], pa.string()), "mtld": pa.array([], pa.float64())}
    pq.write_table(pa.table(cols), tmp_path / "s.parquet")
    (tmp_path / "rule.json").write_text(json.dumps(RULE))
    r = run_cli("rank", tmp_path / "s.parquet", "--rule", tmp_path / "rule.json", "-o", "r.pq")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "no records" in r.stderr and "instructmine score" in r.stderr
    assert not (tmp_path / "r.pq").exists()


@pytest.mark.parametrize("verb", ["select", "rank", "mix build"])
def test_output_that_is_a_folder_leaves_no_temporary(tmp_path, verb):
    pool = tmp_path / "pool.parquet"
    rows = [
        {
            "id": f"r{i}",
            "source": "s",
            "category": None,
            "messages": [
                {"role": "user", "content": f"q{i}"},
                {"role": "assistant", "content": "a"},
            ],
            "meta": None,
        }
        for i in range(4)
    ]
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), pool)
    outdir = tmp_path / "out.parquet"
    outdir.mkdir()
    if verb == "select":
        ranked = tmp_path / "ranked.parquet"
        pq.write_table(pa.table({"id": ["r0", "r1"], "predicted_log_loss": [0.1, 0.2]}), ranked)
        args = ["select", ranked, "--pool", pool, "--top", "2", "-o", outdir]
    elif verb == "rank":
        scores = tmp_path / "s.parquet"
        pq.write_table(pa.table({"id": ["r0", "r1"], "mtld": [1.0, 2.0]}), scores)
        rule = tmp_path / "rule.json"
        rule.write_text(json.dumps(RULE))
        args = ["rank", scores, "--rule", rule, "-o", outdir]
    else:
        (tmp_path / "mix.yaml").write_text(
            yaml.safe_dump(
                {"components": {"a": {"pool": str(pool), "count": 2, "category": "chat"}}}
            )
        )
        args = ["mix", "build", tmp_path / "mix.yaml", "-o", outdir]
    before = _tree(tmp_path)
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "folder" in r.stderr, r.stderr
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("verb", ["train", "score"])
def test_folder_output_that_is_a_file_is_refused_in_one_line(tmp_path, verb):
    pool = tmp_path / "pool.parquet"
    rows = [
        {
            "id": "r0",
            "source": "s",
            "category": None,
            "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
            "meta": None,
        }
    ]
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), pool)
    target = tmp_path / "taken"
    target.write_text("a file the user keeps")
    if verb == "train":
        args = ["train", "--data", pool, "--out", target]
    else:
        args = ["score", pool, "-o", target, "-i", "mtld"]
    before = _tree(tmp_path)
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip() == f"error: {target} is a file, not a folder; give a " + (
        "run folder path" if verb == "train" else "score folder path"
    )
    assert _tree(tmp_path) == before and target.read_text() == "a file the user keeps"
