"""Format adapters on real fixture records: detection, counts and message mapping."""

from __future__ import annotations

import json

import pytest
from helpers_io import load_records, read_jsonl

from instructmine.io import IngestError, SourceSpec, ingest, read_pool
from shared_paths import FIXTURES


def _single(instruction: str, inp: str, output: str) -> list[dict]:
    user = instruction + "\n\n" + inp if inp.strip() else instruction
    return [{"role": "user", "content": user}, {"role": "assistant", "content": output}]


def _expected(name: str, rec: dict) -> list[list[dict]]:
    """The canonical conversations of a raw record, written independently of the adapters."""
    if name in (
        "alpaca_5000.json",
        "dolly_3k.json",
        "code_alpaca_2k.json.gz",
        "new_codealpaca.json",
    ):
        return [_single(rec["instruction"], rec["input"], rec["output"])]
    if name == "dolly_original_fields.jsonl":
        return [_single(rec["instruction"], rec["context"], rec["response"])]
    if name == "davinci_predictions.jsonl":
        return [_single(rec["instruction"], rec["input"], rec["response"])]
    if name == "p3_ag_news.jsonl.gz":
        out = rec["completion"].removesuffix("<|endoftext|>")
        return [[{"role": "user", "content": rec["prompt"]}, {"role": "assistant", "content": out}]]
    if name in ("codealpaca_seed_tasks.jsonl", "user_oriented_instructions.jsonl"):
        return [_single(rec["instruction"], i["input"], i["output"]) for i in rec["instances"]]
    if name == "sharegpt_mt_bench.json":
        roles = {"system": "system", "human": "user", "gpt": "assistant"}
        return [[{"role": roles[t["from"]], "content": t["value"]} for t in rec["conversations"]]]
    if name == "messages_mixed.jsonl":
        return [rec["messages"]]
    raise AssertionError(name)


CASES = {
    "alpaca_5000.json": "alpaca",
    "dolly_3k.json": "alpaca",  # AlpaGasus renamed Dolly's fields to alpaca's
    "dolly_original_fields.jsonl": "dolly",
    "code_alpaca_2k.json.gz": "alpaca",
    "new_codealpaca.json": "alpaca",
    "codealpaca_seed_tasks.jsonl": "self_instruct",
    "user_oriented_instructions.jsonl": "self_instruct",
    "davinci_predictions.jsonl": "dolly",
    "p3_ag_news.jsonl.gz": "prompt_completion",
    "sharegpt_mt_bench.json": "sharegpt",
    "messages_mixed.jsonl": "messages",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_detected_counted_and_mapped(tmp_path, name):
    src = FIXTURES / name
    raw = load_records(src)
    summary = ingest([src], tmp_path / "pool.parquet")
    (part,) = summary.parts
    assert part.format == CASES[name]
    assert part.read == len(raw)
    assert part.kept + part.rejected == part.read
    rows = read_pool(tmp_path / "pool.parquet").to_pylist()
    assert len(rows) == part.rows
    expected = [c for r in raw for c in _expected(name, r) if c[-1]["content"].strip()]
    assert [r["messages"] for r in rows] == expected
    rejects = read_jsonl(tmp_path / "pool.rejects.jsonl")
    assert len(rejects) == part.rejected


def test_mt_bench_joins_reference_answers(tmp_path):
    questions = load_records(FIXTURES / "mt_bench_question.jsonl")
    refs = {
        r["question_id"]: r["choices"][0]["turns"]
        for r in load_records(FIXTURES / "mt_bench_reference_answer.jsonl")
    }
    summary = ingest(
        [FIXTURES / "mt_bench_question.jsonl"],
        tmp_path / "p.parquet",
        references=FIXTURES / "mt_bench_reference_answer.jsonl",
    )
    rows = read_pool(tmp_path / "p.parquet").to_pylist()
    answered = [q for q in questions if refs.get(q["question_id"]) or q.get("reference")]
    assert summary.kept == len(rows) == len(answered)
    assert summary.rejected == len(questions) - len(answered)
    first = answered[0]
    answers = refs.get(first["question_id"]) or first["reference"]
    assert [m["content"] for m in rows[0]["messages"]] == [
        x for pair in zip(first["turns"], answers, strict=True) for x in pair
    ]
    assert rows[0]["category"] == first["category"]
    reasons = [r["reason"] for r in read_jsonl(tmp_path / "p.rejects.jsonl")]
    assert all("has no answers" in r for r in reasons)


def test_alpaca_system_and_history(tmp_path):
    src = tmp_path / "chat.json"
    rec = {
        "instruction": "And in French?",
        "input": "",
        "output": "Bonjour",
        "system": "Be brief.",
        "history": [["Say hello", "Hello"]],
    }
    src.write_text(json.dumps([rec]))
    ingest([src], tmp_path / "p.parquet")
    (row,) = read_pool(tmp_path / "p.parquet").to_pylist()
    assert row["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "And in French?"},
        {"role": "assistant", "content": "Bonjour"},
    ]


def test_messages_text_parts_and_sharegpt_system_field(tmp_path):
    (tmp_path / "m.jsonl").write_text(
        json.dumps(
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "Hi "},
                            {"type": "text", "text": "there"},
                        ],
                    },
                    {"role": "assistant", "content": "Hello"},
                ]
            }
        )
        + "\n"  # fmt: skip
    )
    (tmp_path / "s.json").write_text(
        json.dumps(
            [
                {
                    "system": "S",
                    "conversations": [
                        {"from": "human", "value": "Q"},
                        {"from": "gpt", "value": "A"},
                    ],
                }
            ]
        )
    )
    ingest([tmp_path / "m.jsonl", tmp_path / "s.json"], tmp_path / "p.parquet")
    rows = read_pool(tmp_path / "p.parquet").to_pylist()
    assert rows[0]["messages"][0] == {"role": "user", "content": "Hi there"}
    assert [m["role"] for m in rows[1]["messages"]] == ["system", "user", "assistant"]


def test_categories_sources_extra_fields(tmp_path):
    src = FIXTURES / "dolly_3k.json"
    raw = load_records(src)
    ingest([SourceSpec(path=str(src), name="dolly")], tmp_path / "a.parquet", category="chat")
    rows = read_pool(tmp_path / "a.parquet").to_pylist()
    assert [r["category"] for r in rows] == [r["category"] for r in raw]  # the data's own wins
    assert {r["source"] for r in rows} == {"dolly"}
    ingest([src], tmp_path / "b.parquet", category="chat", force_category=True)
    assert {r["category"] for r in read_pool(tmp_path / "b.parquet").to_pylist()} == {"chat"}
    ingest([FIXTURES / "alpaca_5000.json"], tmp_path / "c.parquet", category="chat")
    rows = read_pool(tmp_path / "c.parquet").to_pylist()
    assert {r["category"] for r in rows} == {"chat"}
    assert {r["source"] for r in rows} == {"alpaca_5000"}
    assert all(r["meta"] is None for r in rows)
    ingest([FIXTURES / "new_codealpaca.json"], tmp_path / "d.parquet", keep_extra=True)
    raw = load_records(FIXTURES / "new_codealpaca.json")
    metas = [json.loads(r["meta"]) for r in read_pool(tmp_path / "d.parquet").to_pylist()]
    assert metas == [{"response": r["response"]} for r in raw]


def test_format_option_overrides_and_bad_format(tmp_path):
    src = tmp_path / "x.jsonl"
    src.write_text(
        json.dumps({"prompt": "Q", "completion": "A", "instruction": "I", "output": "O"}) + "\n"
    )
    ingest([src], tmp_path / "p.parquet", format="p3")
    (row,) = read_pool(tmp_path / "p.parquet").to_pylist()
    assert row["messages"][0]["content"] == "Q"
    with pytest.raises(ValueError, match="unknown format 'nope'"):
        ingest([src], tmp_path / "p.parquet", format="nope")


def test_undetectable_file_is_a_file_error_and_strict_raises(tmp_path):
    src = tmp_path / "odd.jsonl"
    src.write_text(json.dumps({"question": "Q", "answer": "A"}) + "\n")
    good = FIXTURES / "alpaca_5000.json"
    summary = ingest([good, src], tmp_path / "p.parquet")
    (err,) = summary.file_errors
    assert "cannot detect the record format" in err.error and str(src) in err.error
    assert "--format" in err.error
    assert summary.kept == len(load_records(good))
    with pytest.raises(IngestError, match="cannot detect"):
        ingest([good, src], tmp_path / "q.parquet", strict=True)
    assert not (tmp_path / "q.parquet").exists()
