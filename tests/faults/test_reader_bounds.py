"""Adversarial JSON under a memory cap (issue 31, item 9): every reader bounds the nesting
depth and the size of a record and rejects the record (counted, named) instead of eating
memory. The ingest runs in a subprocess under ``RLIMIT_AS``; before the bound, the 200 KB
array nested 100,000 deep alone grew to about 22 GB."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
from fault_helpers import python

GOOD = {"instruction": "Add two and two.", "input": "", "output": "Four."}
CAP = 2 << 30  # bytes of address space for the whole ingest (Python, numpy, pyarrow)
DEPTH = 100_000


def _files(folder):
    deep = "[" * DEPTH + "]" * DEPTH
    (folder / "deep.json").write_text(f"[{deep}, {json.dumps(GOOD)}]")
    (folder / "deep_object.json").write_text(
        "[" + '{"a":' * DEPTH + "1" + "}" * DEPTH + f", {json.dumps(GOOD)}]"
    )
    (folder / "deep.jsonl").write_text(f"{json.dumps(GOOD)}\n{deep}\n")
    huge = {**GOOD, "output": "x" * 3_000_000}  # above the 1 MB record limit of the test
    (folder / "huge_string.json").write_text(json.dumps([huge, GOOD]))
    (folder / "huge_string.jsonl").write_text(json.dumps(huge) + "\n" + json.dumps(GOOD) + "\n")
    keys = {**GOOD, **{f"k{i}": i for i in range(200_000)}}  # many keys: 2.6 MB
    (folder / "many_keys.json").write_text(json.dumps([keys, GOOD]))
    (folder / "many_keys.jsonl").write_text(json.dumps(keys) + "\n" + json.dumps(GOOD) + "\n")
    (folder / "huge_field.csv").write_text(
        "instruction,input,output\n" + f"a,,{'y' * 3_000_000}\n" + "b,,c\n"
    )
    third = "w" * 700_000  # every field under the 1 MB limit, the row above it
    (folder / "huge_row.csv").write_text(
        "instruction,input,output\n" + f"{third},{third},{third}\n" + "b,,c\n"
    )
    table = pa.table(
        {
            "instruction": ["Add.", "Add."],
            "input": ["", ""],
            "output": ["z" * 3_000_000, "Four."],
        }
    )
    pq.write_table(table, folder / "huge_row.parquet")


def test_adversarial_json_is_rejected_record_by_record_under_a_memory_cap(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _files(data)
    code = f"""
import json, resource
from instructmine.io import ingest
s = ingest([{str(data)!r}], {str(tmp_path / "pool.parquet")!r}, max_record_mb=1)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"summary": s.to_dict(), "peak": peak}}))
"""
    r = python(code, cwd=tmp_path, address_space=CAP)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    parts = {p["file"]: p for p in out["summary"]["parts"]}
    assert set(parts) == {p.name for p in data.iterdir()}
    for name, part in parts.items():  # the bad record rejected, the good one kept
        assert (part["read"], part["kept"], part["rejected"]) == (2, 1, 1), (name, part)
        assert not part.get("error"), (name, part)
    rejects = [
        json.loads(line) for line in (tmp_path / "pool.rejects.jsonl").read_text().splitlines()
    ]
    reasons = {r["file"].rsplit("/", 1)[-1]: r["reason"] for r in rejects}
    assert "nested more than" in reasons["deep.json"]
    assert "nested more than" in reasons["deep_object.json"]
    assert "1 MB limit" in reasons["huge_string.json"]
    assert "1 MB limit" in reasons["many_keys.json"]
    assert "1 MB limit" in reasons["huge_row.parquet"]
    assert "1 MB limit" in reasons["huge_row.csv"]
    assert out["peak"] < 1 << 30, out["peak"]  # well under the cap: nothing held whole
