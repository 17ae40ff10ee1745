"""A corpus of crafted bad inputs, each with its expected outcome through the real CLI: exit
status, records kept, records rejected with their reason, no leftover files, and the source
files byte for byte unchanged (issue 12, "must hold when done"). Exit statuses are the ones
docs/robustness.md lists: 0 ok, 1 bad input / nothing kept, 2 usage error, 3 partial input."""

# ruff: noqa: E501  (the corpus table reads best one case per line)

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field

import pytest

from shared_paths import run_cli


def _alpaca(n: int, start: int = 0) -> list[dict]:
    return [
        {"instruction": f"task {i}", "input": "", "output": f"answer {i}"}
        for i in range(start, start + n)
    ]


def _jsonl(records) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def _turns(*pairs) -> dict:
    return {"conversations": [{"from": w, "value": v} for w, v in pairs]}


GOOD_CONV = _turns(("human", "q"), ("gpt", "a"))
TWO_GPT = _turns(("human", "q"), ("gpt", "a"), ("gpt", "b"))
BIG_ARRAY = json.dumps(_alpaca(400), indent=1).encode()


@dataclass
class Case:
    files: dict[str, bytes]  # source files, written under the case folder
    args: list[str]  # after `ingest`; {out} is the pool path, {dir} the case folder
    code: int
    kept: int | None = None
    rejected: int | None = None
    reasons: list[str] = field(default_factory=list)  # each in some reject's reason
    stderr: list[str] = field(default_factory=list)  # each in stderr
    repaired: int | None = None


CASES = {
    "bad byte in a JSON array": Case(
        {"a.json": json.dumps(_alpaca(5)).encode().replace(b"answer 1", b"answer \xff1")},
        ["a.json"], 0, 4, 1, ["not valid UTF-8"],
    ),
    "bad byte in JSONL": Case(
        {"a.jsonl": _jsonl(_alpaca(4)).replace(b"task 2", b"task \xfe2")},
        ["a.jsonl"], 0, 3, 1, ["not valid UTF-8"],
    ),
    "invalid JSON line": Case(
        {"a.jsonl": _jsonl(_alpaca(3)) + b'{"instruction": "x", "output": \n' + _jsonl(_alpaca(2, 3))},
        ["a.jsonl"], 0, 5, 1, ["invalid JSON"],
    ),
    "junk first line of JSONL": Case(
        {"a.jsonl": b"garbage that is not json\n" + _jsonl(_alpaca(4))},
        ["a.jsonl"], 0, 4, 1, ["invalid JSON"],
    ),
    "odd first record": Case(
        {"a.jsonl": _jsonl([{"question": "Q", "answer": "A"}, *_alpaca(4)])},
        ["a.jsonl"], 0, 4, 1, ["missing field 'instruction'", "detected from 4 of 5"],
    ),
    "wrong types": Case(
        {"a.json": json.dumps([*_alpaca(2), {"instruction": ["x"], "output": "y"}, {"instruction": "x", "output": 3}]).encode()},
        ["a.json"], 0, 2, 2, ["field 'instruction' must be a string", "field 'output' must be a string"],
    ),
    "record not an object": Case(
        {"a.jsonl": _jsonl([*_alpaca(2), [1, 2], "text"])},
        ["a.jsonl"], 0, 2, 2, ["must be a JSON object"],
    ),
    "empty response": Case(
        {"a.jsonl": _jsonl([*_alpaca(2), {"instruction": "q", "output": "  "}])},
        ["a.jsonl"], 0, 2, 1, ["empty response"],
    ),
    "oversized record": Case(
        {"a.jsonl": _jsonl([*_alpaca(2), {"instruction": "q", "output": "x" * 5000}])},
        ["a.jsonl", "--max-record-mb", "0.001"], 0, 2, 1, ["above the"],
    ),
    "two assistant turns": Case(
        {"s.json": json.dumps([GOOD_CONV, TWO_GPT]).encode()},
        ["s.json"], 0, 1, 1, ["two assistant turns in a row"],
    ),
    "starts with the assistant": Case(
        {"s.jsonl": _jsonl([GOOD_CONV, _turns(("gpt", "hi"), ("human", "q"), ("gpt", "a"))])},
        ["s.jsonl"], 0, 1, 1, ["starts with an assistant turn"],
    ),
    "bad turns under --strict": Case(
        {"s.json": json.dumps([GOOD_CONV, TWO_GPT]).encode()},
        ["s.json", "--strict"], 1, stderr=["two assistant turns in a row", "--strict"],
    ),
    "bad turns repaired": Case(
        {"s.json": json.dumps([GOOD_CONV, TWO_GPT]).encode()},
        ["s.json", "--turns", "repair"], 0, 2, 0, repaired=1,
    ),
    "truncated gzip array": Case(
        {"a.json.gz": gzip.compress(BIG_ARRAY)[: len(gzip.compress(BIG_ARRAY)) * 2 // 3]},
        ["a.json.gz"], 3, None, None, ["truncated"], ["--allow-partial"],
    ),
    "truncated gzip array, partial allowed": Case(
        {"a.json.gz": gzip.compress(BIG_ARRAY)[: len(gzip.compress(BIG_ARRAY)) * 2 // 3]},
        ["a.json.gz", "--allow-partial"], 0, None, None, ["truncated"],
    ),
    "one unreadable file of two": Case(
        {"d/a.json": json.dumps(_alpaca(3)).encode(), "d/b.jsonl": b""},
        ["d"], 3, 3, 0, [], ["could not be read whole"],
    ),
    "empty file": Case({"a.jsonl": b""}, ["a.jsonl"], 1, 0, 0, ["empty"], ["no records were kept"]),
    "binary file": Case({"a.json": b"\x00\x01\x02\x03binary" * 20}, ["a.json"], 1, 0, 0, ["binary"]),
    "not JSON at all": Case({"a.json": b"hello world\nmore text\n"}, ["a.json"], 1, 0, 0, ["not a JSON array or JSONL"]),
    "nothing fits": Case(
        {"a.jsonl": _jsonl([{"instruction": 5}, {"nonsense": True}])},
        ["a.jsonl", "--format", "alpaca"], 1, 0, 2, ["missing field", "must be a string"], ["no records were kept"],
    ),
    "output is the input": Case(
        {"a.jsonl": _jsonl(_alpaca(2))}, ["a.jsonl", "-o", "{dir}/a.jsonl"], 1, stderr=["also an input"],
    ),
    "output is a folder": Case(
        {"a.jsonl": _jsonl(_alpaca(2)), "out.parquet/keep": b"x"},
        ["a.jsonl", "-o", "{dir}/out.parquet"], 1, stderr=["is a folder"],
    ),
    "bad option value": Case(
        {"a.jsonl": _jsonl(_alpaca(2))}, ["a.jsonl", "--max-record-mb", "0"], 2, stderr=["max_record_mb: "],
    ),
    "unknown format name": Case(
        {"a.jsonl": _jsonl(_alpaca(2))}, ["a.jsonl", "--format", "nope"], 2, stderr=["unknown format 'nope'"],
    ),
}  # fmt: skip


def _tree(folder) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(tmp_path, name):
    case = CASES[name]
    for rel, data in case.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    sources = _tree(tmp_path)
    args = [a.format(dir=tmp_path) for a in case.args]
    out = tmp_path / "pool.parquet"
    if "-o" not in args:
        args += ["-o", str(out)]
    r = run_cli("ingest", *args, "--json", cwd=tmp_path)
    assert r.returncode == case.code, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "errors.pydantic.dev" not in r.stderr
    for text in case.stderr:
        assert text in r.stderr, r.stderr
    after = _tree(tmp_path)
    assert {k: after[k] for k in sources} == sources  # sources byte for byte unchanged
    made = set(after) - set(sources)
    assert not [m for m in made if ".tmp-" in m]
    if r.returncode in (1, 2) and case.kept is None:  # refused before reading: nothing written
        assert made == set(), made
        return
    summary = json.loads(r.stdout)
    assert summary["read"] == summary["kept"] + summary["rejected"]
    for key in ("kept", "rejected", "repaired"):
        if getattr(case, key) is not None:
            assert summary[key] == getattr(case, key), summary
    if summary["rows"] == 0:
        assert made <= {"pool.rejects.jsonl"}, made  # no empty pool, no manifest
    else:
        assert made == {"pool.parquet", "pool.rejects.jsonl", "pool.ingest.json"}, made
    rejects = (tmp_path / "pool.rejects.jsonl").read_text().splitlines()
    reasons = [json.loads(line)["reason"] for line in rejects]
    assert len(reasons) == summary["rejected"] + len(
        [p for p in summary["parts"] if p["error"] and not p["read"]]
    )
    for text in case.reasons:
        assert any(text in reason for reason in reasons), (text, reasons)
