"""Round trips (ingest -> export -> ingest) and exact counts on the real shared data sets."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers_io import load_records, read_jsonl

from instructmine.io import EXPORT_FORMATS, SourceSpec, export_pool, ingest, read_pool
from instructmine.schema import SCHEMA
from shared_paths import FIXTURES, shared_data_or_skip

COLUMNS = ["id", "source", "category", "messages"]


def _rows(path):
    return read_pool(path, columns=COLUMNS).to_pylist()


def _round_trip(tmp_path, pool, fmt):
    out = tmp_path / f"export.{fmt}.{'jsonl' if fmt == 'messages' else 'json'}"
    s = export_pool(pool, out, fmt)
    assert s.skipped == 0
    again = tmp_path / f"again_{fmt}.parquet"
    summary = ingest([out], again)
    assert summary.rejected == 0 and summary.parts[0].format == fmt
    return _rows(again)


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_fixture_round_trip(tmp_path, fmt):
    pool = tmp_path / "pool.parquet"
    ingest(
        [FIXTURES],
        pool,
        references=FIXTURES / "mt_bench_reference_answer.jsonl",
        category="misc",
    )
    assert _round_trip(tmp_path, pool, fmt) == _rows(pool)


def test_export_files_have_the_tools_shapes(tmp_path):
    pool = tmp_path / "pool.parquet"
    ingest([FIXTURES / "sharegpt_mt_bench.json"], pool, source="mt")
    export_pool(pool, tmp_path / "a.json", "alpaca", tags=False)
    export_pool(pool, tmp_path / "s.json", "sharegpt", tags=False)
    export_pool(pool, tmp_path / "m.jsonl", "messages", tags=False)
    a = json.loads((tmp_path / "a.json").read_text())[0]
    assert set(a) == {"instruction", "input", "output", "system", "history"}
    assert len(a["history"]) == 1 and a["system"] == "You are a helpful assistant."
    s = json.loads((tmp_path / "s.json").read_text())[0]
    assert [t["from"] for t in s["conversations"]] == ["system", "human", "gpt", "human", "gpt"]
    m = read_jsonl(tmp_path / "m.jsonl")[0]
    assert set(m) == {"messages"} and m["messages"][1]["role"] == "user"


def test_alpaca_export_skips_what_it_cannot_express(tmp_path):
    src = tmp_path / "m.jsonl"
    msgs = [
        {"role": "user", "content": "a"},
        {"role": "user", "content": "b"},
        {"role": "assistant", "content": "c"},
    ]
    src.write_text(json.dumps({"messages": msgs}) + "\n")
    summary = ingest([src], tmp_path / "p.parquet")  # not alternating: rejected by default
    assert (summary.kept, summary.rejected) == (0, 1)
    rows = [{"id": "x", "source": "m", "category": None, "messages": msgs, "meta": None}]
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), tmp_path / "p.parquet")
    s = export_pool(tmp_path / "p.parquet", tmp_path / "a.json", "alpaca")
    assert (s.written, s.skipped) == (0, 1)
    assert "alternating" in read_jsonl(s.skipped_path)[0]["reason"]
    assert json.loads((tmp_path / "a.json").read_text()) == []


# name -> (paths relative to ../shared/data, expected format of every file)
REAL_SETS = {
    "alpaca_5000": (["alpaca_5000/alpaca_5000.json.gz"], "alpaca"),
    "random_9k": (["alpagasus/random_9k.json.gz"], "alpaca"),
    "codealpaca": (
        [
            "codealpaca/code_alpaca_2k.json.gz",
            "codealpaca/new_codealpaca.json.gz",
            "codealpaca/seed_tasks.jsonl",
        ],
        None,
    ),
    "dolly_3k": (["alpagasus/dolly_3k.json.gz"], "alpaca"),
    "p3_t0_sample": (["p3_t0_sample/templates"], "prompt_completion"),
    "mt_bench": (["mt_bench/question.jsonl"], "mt_bench"),
    "self_instruct_user_oriented": (["self_instruct_user_oriented"], None),
    "alpaca_gpt4_sample": (["alpaca_gpt4_sample/alpaca_en_demo.json.gz"], "alpaca"),
}


@pytest.fixture(scope="module")
def real_pool(tmp_path_factory):
    data = shared_data_or_skip()
    out = tmp_path_factory.mktemp("real") / "pool.parquet"
    specs = [
        SourceSpec(path=str(data / rel), name=name)
        for name, (rels, _) in REAL_SETS.items()
        for rel in rels
    ]
    summary = ingest(specs, out, references=data / "mt_bench" / "reference_answer_gpt-4.jsonl")
    return data, out, summary


@pytest.mark.integration
def test_real_sets_counts_are_exact(real_pool):
    data, out, summary = real_pool
    assert not summary.file_errors
    rejects = read_jsonl(out.with_name("pool.rejects.jsonl"))
    files = {p.path: p for p in summary.parts}
    expected_files = [
        f
        for rels, _ in REAL_SETS.values()
        for rel in rels
        for f in ([data / rel] if (data / rel).is_file() else sorted((data / rel).rglob("*.json*")))
    ]
    assert sorted(files) == sorted(str(f) for f in expected_files)
    for f in expected_files:
        part = files[str(f)]
        assert part.read == len(load_records(f)), f  # counted with json.load / lines
        assert part.kept + part.rejected == part.read
        assert part.rejected == sum(r["file"] == str(f) for r in rejects)
    rows = _rows(out)
    assert len(rows) == summary.rows == sum(p.rows for p in summary.parts)
    assert len({r["id"] for r in rows}) == len(rows)
    per_source = {}
    for r in rows:
        per_source[r["source"]] = per_source.get(r["source"], 0) + 1
    for name in REAL_SETS:
        assert per_source[name] == sum(p.rows for p in summary.parts if p.source == name)
    for name, (_, fmt) in REAL_SETS.items():
        if fmt:
            assert {p.format for p in summary.parts if p.source == name} == {fmt}
    # every reject names its file and line/index and says why
    assert all(r["reason"] and (r["line"] or r["index"] is not None) for r in rejects)


@pytest.mark.integration
@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_real_sets_round_trip(real_pool, tmp_path, fmt):
    _, out, _ = real_pool
    assert _round_trip(tmp_path, out, fmt) == _rows(out)
