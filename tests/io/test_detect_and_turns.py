"""Format detection from a sample of records, and conversation turn order (issue 12, items 5
and 6): only the records that do not fit are rejected, each with its index and reason."""

from __future__ import annotations

import json

import pytest
from helpers_io import read_jsonl

from instructmine.io import IngestError, ingest, read_pool
from shared_paths import FIXTURES, run_cli


def _alpaca(i: int) -> dict:
    return {"instruction": f"task {i}", "input": "", "output": f"answer {i}"}


def _jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_an_odd_first_record_costs_only_itself(tmp_path):
    src = _jsonl(
        tmp_path / "a.jsonl", [{"question": "Q", "answer": "A"}] + [_alpaca(i) for i in range(6)]
    )
    summary = ingest([src], tmp_path / "p.parquet")
    part = summary.parts[0]
    assert (part.format, part.read, part.kept, part.rejected) == ("alpaca", 7, 6, 1)
    (reject,) = read_jsonl(tmp_path / "p.rejects.jsonl")
    assert reject["line"] == 1
    assert "missing field 'instruction'" in reject["reason"]
    assert "read as alpaca, detected from 6 of 7 sampled records" in reject["reason"]
    outputs = [r["messages"][1]["content"] for r in read_pool(tmp_path / "p.parquet").to_pylist()]
    assert outputs == [f"answer {i}" for i in range(6)]


def test_majority_wins_over_the_first_record(tmp_path):
    sharegpt = {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}
    records = [sharegpt] + [_alpaca(i) for i in range(3)] + [sharegpt]
    summary = ingest([_jsonl(tmp_path / "m.jsonl", records)], tmp_path / "p.parquet")
    assert (summary.parts[0].format, summary.kept, summary.rejected) == ("alpaca", 3, 2)
    lines = [r["line"] for r in read_jsonl(tmp_path / "p.rejects.jsonl")]
    assert lines == [1, 5]


def test_no_record_of_the_sample_fits_is_a_file_error(tmp_path):
    src = _jsonl(tmp_path / "q.jsonl", [{"question": "Q", "answer": "A"}] * 3)
    with pytest.raises(IngestError, match="none of the first 3 records fits"):
        ingest([src], tmp_path / "p.parquet", strict=True)


def _conv(*turns):
    return {"conversations": [{"from": w, "value": v} for w, v in turns]}


def _msgs(*turns):
    return {"messages": [{"role": w, "content": v} for w, v in turns]}


BAD_TURNS = [
    (
        _conv(("human", "q"), ("gpt", "a"), ("gpt", "b")),
        "two assistant turns in a row (the second is conversations[2])",
    ),
    (
        _conv(("gpt", "hello"), ("human", "q"), ("gpt", "a")),
        "starts with an assistant turn (conversations[0])",
    ),
    (
        _conv(("human", "q"), ("gpt", " "), ("human", "r"), ("gpt", "a")),
        "conversations[1] is an empty assistant turn",
    ),
    (
        _msgs(("system", "s"), ("user", "q"), ("user", "r"), ("assistant", "a")),
        "two user turns in a row (the second is messages[2])",
    ),
]


def test_turns_that_do_not_alternate_are_rejected_with_index_and_reason(tmp_path):
    good = _conv(("human", "q"), ("gpt", "a"))
    sharegpt = [good] + [rec for rec, _ in BAD_TURNS[:3]]
    src = tmp_path / "s.json"
    src.write_text(json.dumps(sharegpt))
    summary = ingest([src, _jsonl(tmp_path / "m.jsonl", [BAD_TURNS[3][0]])], tmp_path / "p.parquet")
    assert (summary.read, summary.kept, summary.rejected) == (5, 1, 4)
    rejects = read_jsonl(tmp_path / "p.rejects.jsonl")
    assert [r["index"] for r in rejects[:3]] == [1, 2, 3] and rejects[3]["line"] == 1
    for reject, (_, reason) in zip(rejects, BAD_TURNS, strict=True):
        assert reason in reject["reason"] and "--turns repair" in reject["reason"]
    with pytest.raises(IngestError, match="two assistant turns in a row"):
        ingest([src], tmp_path / "q.parquet", strict=True)
    assert not (tmp_path / "q.parquet").exists()


def test_turns_repair_merges_and_drops_and_counts(tmp_path):
    src = tmp_path / "s.json"
    unfixable = _conv(("human", "q"), ("gpt", "a"), ("human", "r"), ("human", "s"))
    records = [_conv(("human", "q"), ("gpt", "a"))] + [r for r, _ in BAD_TURNS[:3]]
    src.write_text(json.dumps([*records, unfixable]))
    summary = ingest([src], tmp_path / "p.parquet", turns="repair")
    assert (summary.kept, summary.rejected, summary.repaired) == (4, 1, 3)
    assert summary.to_dict()["repaired"] == 3  # the unfixable one is rejected, not counted
    (reject,) = read_jsonl(tmp_path / "p.rejects.jsonl")
    assert reject["index"] == 4 and "ends with a user turn" in reject["reason"]
    convs = [
        [(m["role"], m["content"]) for m in r["messages"]]
        for r in read_pool(tmp_path / "p.parquet").to_pylist()
    ]
    assert convs[1] == [("user", "q"), ("assistant", "a\n\nb")]
    assert convs[2] == [("user", "q"), ("assistant", "a")]
    assert convs[3] == [("user", "q\n\nr"), ("assistant", "a")]


def test_turns_option_through_the_cli_and_the_real_messages_fixture(tmp_path):
    fixture = FIXTURES / "messages_mixed.jsonl"
    r = run_cli("ingest", fixture, "-o", tmp_path / "p.parquet", "--json")
    assert r.returncode == 0, r.stderr
    clean = json.loads(r.stdout)
    assert clean["rejected"] == 0 and clean["repaired"] == 0  # real data alternates
    bad = _jsonl(
        tmp_path / "bad.jsonl", [BAD_TURNS[3][0], _msgs(("user", "q"), ("assistant", "a"))]
    )
    r = run_cli("ingest", bad, "-o", tmp_path / "q.parquet", "--turns", "repair", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["repaired"] == 1
    r = run_cli("ingest", bad, "-o", tmp_path / "s.parquet", "--strict")
    assert r.returncode == 1 and "two user turns in a row" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "s.parquet").exists()
    r = run_cli("ingest", bad, "-o", tmp_path / "t.parquet", "--turns", "fix")
    assert r.returncode == 2 and "--turns must be one of reject, repair" in r.stderr
