"""Malformed input: every bad record is reported with file, line/index and reason."""

from __future__ import annotations

import gzip
import json

import pytest
from helpers_io import read_jsonl

from instructmine.io import IngestError, ingest, read_pool
from shared_paths import FIXTURES

GOOD = {"instruction": "Name a colour.", "input": "", "output": "Blue."}


def _jsonl(path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


def _line(rec) -> bytes:
    return json.dumps(rec).encode() + b"\n"


def _run(tmp_path, src, **kw):
    summary = ingest([src], tmp_path / "pool.parquet", **kw)
    return summary, read_jsonl(tmp_path / "pool.rejects.jsonl")


def test_truncated_last_line(tmp_path):
    src = tmp_path / "t.jsonl"
    _jsonl(src, [_line(GOOD), _line(GOOD), b'{"instruction": "Cut off", "outp'])
    summary, rejects = _run(tmp_path, src)
    assert (summary.read, summary.kept, summary.rejected) == (3, 2, 1)
    (r,) = rejects
    assert (r["file"], r["line"]) == (str(src), 3)
    assert "invalid JSON" in r["reason"] and "truncated" in r["reason"]


def test_wrong_types_missing_fields_empty_response(tmp_path):
    src = tmp_path / "w.jsonl"
    _jsonl(
        src,
        [
            _line({"instruction": "Q", "input": "", "output": 42}),
            _line({"instruction": ["a"], "output": "x"}),
            _line({"instruction": "Q", "input": ""}),
            _line({"instruction": "Q", "input": "", "output": "   "}),
            _line([1, 2, 3]),
            _line({"instruction": "Q", "history": "nope", "output": "A"}),
            _line(GOOD),
        ],
    )
    summary, rejects = _run(tmp_path, src)
    assert (summary.read, summary.kept, summary.rejected) == (7, 1, 6)
    by_line = {r["line"]: r["reason"] for r in rejects}
    assert "field 'output' must be a string, got int" in by_line[1]
    assert "field 'instruction' must be a string, got list" in by_line[2]
    assert "missing field 'output'" in by_line[3]
    assert "empty response" in by_line[4]
    assert "must be a JSON object, got list" in by_line[5]
    assert "history" in by_line[6]
    assert all(r["file"] == str(src) for r in rejects)


def test_wrong_types_in_json_array_report_index(tmp_path):
    src = tmp_path / "a.json"
    src.write_text(json.dumps([GOOD, {"instruction": "Q", "output": None}, GOOD]))
    summary, rejects = _run(tmp_path, src)
    assert (summary.kept, summary.rejected) == (2, 1)
    assert (rejects[0]["index"], rejects[0]["line"]) == (1, None)
    assert "missing field 'output' (null)" in rejects[0]["reason"]


def test_unknown_role_and_no_assistant_turn(tmp_path):
    src = tmp_path / "c.json"
    conv_bad_role = [{"from": "human", "value": "Hi"}, {"from": "robot", "value": "Beep"}]
    conv_no_answer = [{"from": "human", "value": "Hi"}]
    src.write_text(
        json.dumps([{"conversations": conv_bad_role}, {"conversations": conv_no_answer}])
    )
    summary, rejects = _run(tmp_path, src)
    assert summary.rejected == 2 and summary.kept == 0
    assert "unknown role 'robot' in conversations[1]" in rejects[0]["reason"]
    assert rejects[0]["index"] == 0
    assert "no assistant turn" in rejects[1]["reason"]
    src2 = tmp_path / "m.jsonl"
    _jsonl(
        src2,
        [_line({"messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "y"}]})],
    )
    _, rejects = _run(tmp_path, src2)
    assert "unknown role 'tool' in messages[1]" in rejects[0]["reason"]


def test_non_utf8_line(tmp_path):
    src = tmp_path / "n.jsonl"
    _jsonl(
        src, [_line(GOOD), b'{"instruction": "caf\xe9", "input": "", "output": "x"}\n', _line(GOOD)]
    )
    summary, rejects = _run(tmp_path, src)
    assert (summary.kept, summary.rejected) == (2, 1)
    assert rejects[0]["line"] == 2 and "not valid UTF-8 (byte 0xe9" in rejects[0]["reason"]


def test_non_utf8_in_json_array_costs_only_its_record(tmp_path):
    src = tmp_path / "n.json"
    src.write_bytes(
        b'[{"instruction": "a", "output": "b"}, {"instruction": "caf\xe9", "output": "x"},'
        b' {"instruction": "c", "output": "d"}]'
    )
    summary, rejects = _run(tmp_path, src)
    assert (summary.read, summary.kept, summary.rejected) == (3, 2, 1)
    assert rejects[0]["index"] == 1 and "not valid UTF-8" in rejects[0]["reason"]
    assert "0xe9" in rejects[0]["reason"]
    assert not summary.parts[0].error  # the rest of the array was read


def test_empty_and_blank_files(tmp_path):
    for name, data in (
        ("empty.jsonl", b""),
        ("blank.json", b"\n  \n"),
        ("empty.json.gz", gzip.compress(b"")),
    ):
        src = tmp_path / name
        src.write_bytes(data)
        summary = ingest([src, FIXTURES / "alpaca_5000.json"], tmp_path / "p.parquet")
        (err,) = summary.file_errors
        assert str(src) in err.error and ("empty" in err.error or "blank" in err.error)
        with pytest.raises(IngestError, match=name.replace(".", r"\.")):
            ingest([src], tmp_path / "q.parquet", strict=True)


def test_binary_garbage(tmp_path):
    src = tmp_path / "garbage.jsonl"
    src.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(IngestError) as e:
        ingest([src], tmp_path / "p.parquet", strict=True)
    assert str(src) in str(e.value) and "binary" in str(e.value)
    summary = ingest([src, FIXTURES / "alpaca_5000.json"], tmp_path / "p.parquet")
    assert "binary" in summary.file_errors[0].error and summary.kept == 30


def test_strict_stops_at_first_bad_record(tmp_path):
    src = tmp_path / "s.jsonl"
    _jsonl(src, [_line(GOOD), b"not json\n", _line({"instruction": "Q", "output": 1})])
    with pytest.raises(IngestError) as e:
        ingest([src], tmp_path / "p.parquet", strict=True)
    assert f"{src}:2" in str(e.value) and "invalid JSON" in str(e.value)
    assert not (tmp_path / "p.parquet").exists()


@pytest.mark.parametrize("kind", ["jsonl", "json"])
def test_fifty_megabyte_record(tmp_path, kind):
    big = {"instruction": "Summarise.", "input": "", "output": "x" * 50_000_000}
    src = tmp_path / f"big.{kind}"
    if kind == "jsonl":
        with open(src, "wb") as f:
            f.write(_line(GOOD))
            f.write(_line(big))
            f.write(_line(GOOD))
    else:
        src.write_text(json.dumps([GOOD, big, GOOD]))
    del big
    summary, rejects = _run(tmp_path, src)
    assert (summary.read, summary.kept, summary.rejected) == (3, 2, 1)
    (r,) = rejects
    assert r["file"] == str(src)
    assert (r["line"] == 2) if kind == "jsonl" else (r["index"] == 1)
    assert "above the 16 MB limit" in r["reason"] and "--max-record-mb" in r["reason"]
    assert len(r["excerpt"] or "") < 1000  # the rejects file does not copy the record
    summary = ingest([src], tmp_path / "big.parquet", max_record_mb=64)
    assert summary.kept == 3
    rows = read_pool(tmp_path / "big.parquet").to_pylist()
    assert len(rows[1]["messages"][1]["content"]) == 50_000_000
