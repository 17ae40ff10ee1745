"""Bad input never costs more than the bad record, never overwrites a source, leaves nothing
behind on failure, and exits with a status a script can act on (issue 12).

Every case is a real crafted file run through the real CLI in a subprocess (the same code as
this test process: ``PYTHONPATH`` points at the imported package); sources are hashed before
and after.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import lzma
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers_io import load_records

import instructmine
from instructmine.io import read_pool
from shared_paths import FIXTURES

SRC_ROOT = Path(instructmine.__file__).resolve().parents[1]


def cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-c", "from instructmine.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={  # a bare environment, but the suite's cache (conftest), not the user's
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(SRC_ROOT),
            "INSTRUCTMINE_CACHE": os.environ["INSTRUCTMINE_CACHE"],
        },
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def alpaca(n: int) -> list[dict]:
    return [{"instruction": f"task {i}", "input": "", "output": f"answer {i}"} for i in range(n)]


def test_bad_byte_in_json_array_rejects_only_its_record(tmp_path):
    src = tmp_path / "bad.json"
    text = json.dumps(alpaca(5)).encode()
    src.write_bytes(text.replace(b"answer 1", b"answer \xff1"))
    before = digest(src)
    r = cli("ingest", src, "-o", tmp_path / "p.parquet", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert (summary["read"], summary["kept"], summary["rejected"]) == (5, 4, 1)
    reject = json.loads((tmp_path / "p.rejects.jsonl").read_text())
    assert (
        reject["index"] == 1
        and "not valid UTF-8" in reject["reason"]
        and "0xff" in reject["reason"]
    )
    kept = [m["messages"][1]["content"] for m in read_pool(tmp_path / "p.parquet").to_pylist()]
    assert kept == ["answer 0", "answer 2", "answer 3", "answer 4"]

    r = cli("ingest", src, "-o", tmp_path / "r.parquet", "--encoding-errors", "replace")
    assert r.returncode == 0, r.stderr
    rows = read_pool(tmp_path / "r.parquet").to_pylist()
    assert len(rows) == 5 and rows[1]["messages"][1]["content"] == "answer \ufffd1"
    assert digest(src) == before


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [
        (".gz", lambda data: gzip.compress(data, 6)),
        (".bz2", lambda data: bz2.compress(data, 1)),  # 100 kB blocks; a cut block is lost
        (".xz", lambda data: lzma.compress(data, preset=6)),
    ],
)
def test_truncated_compressed_array_salvages_its_complete_records(tmp_path, suffix, compress):
    records = load_records(FIXTURES / "code_alpaca_2k.json.gz") * 60  # ~0.6 MB
    whole = compress(json.dumps(records, indent=1).encode())
    src = tmp_path / f"cut.json{suffix}"
    src.write_bytes(whole[: len(whole) * 2 // 3])
    r = cli("ingest", src, "-o", tmp_path / "p.parquet", "--json")
    assert r.returncode == 3, r.stderr  # a file read only in part: partial input
    summary = json.loads(r.stdout)
    part = summary["parts"][0]
    assert "truncated" in part["error"]
    assert part["read"] == part["kept"] + part["rejected"] and part["kept"] >= 1
    rows = read_pool(tmp_path / "p.parquet").to_pylist()
    kept = [row["messages"][-1]["content"] for row in rows]
    assert kept == [rec["output"] for rec in records[: len(kept)]]  # a prefix, in order
    assert len(kept) < len(records)
    r = cli("ingest", src, "-o", tmp_path / "q.parquet", "--allow-partial")
    assert r.returncode == 0, r.stderr


def test_a_failed_file_in_a_folder_exits_3_unless_partial_is_allowed(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.json").write_text(json.dumps(alpaca(3)))
    (data / "b.jsonl").write_bytes(b"")  # empty: unreadable
    (data / "c.json").write_bytes(b"\x00\x01\x02binary" * 10)
    r = cli("ingest", data, "-o", tmp_path / "p.parquet")
    assert r.returncode == 3 and "--allow-partial" in r.stderr
    assert len(read_pool(tmp_path / "p.parquet")) == 3
    r = cli("ingest", data, "-o", tmp_path / "q.parquet", "--allow-partial")
    assert r.returncode == 0, r.stderr


def test_output_equal_to_an_input_is_refused_before_writing(tmp_path):
    src = tmp_path / "x.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in alpaca(4)))
    before, files = digest(src), listing(tmp_path)
    r = cli("ingest", src, "-o", src, cwd=tmp_path)
    assert r.returncode == 1 and "also an input" in r.stderr
    assert digest(src) == before and listing(tmp_path) == files

    pool = tmp_path / "q.parquet"
    assert cli("ingest", src, "-o", pool).returncode == 0
    before, files = digest(pool), listing(tmp_path)
    for verb in ("export", "dedup"):
        r = cli(verb, pool, "-o", pool)
        assert r.returncode == 1 and "also an input" in r.stderr, (verb, r.stderr)
        assert "Traceback" not in r.stderr
    assert digest(pool) == before and listing(tmp_path) == files

    data = tmp_path / "data"  # an output that would replace a file inside an input folder
    data.mkdir()
    (data / "a.parquet").write_bytes(pool.read_bytes())
    r = cli("ingest", data, "-o", data / "a.parquet")
    assert r.returncode == 1 and "also an input" in r.stderr
    assert digest(data / "a.parquet") == before


def test_nothing_kept_leaves_no_pool_and_a_folder_output_no_temporary(tmp_path):
    src = tmp_path / "junk.jsonl"
    src.write_text('{"instruction": 5}\n{"nonsense": true}\n')
    r = cli("ingest", src, "-o", tmp_path / "p.parquet", "--format", "alpaca")
    assert r.returncode == 1 and "no record" in r.stderr
    assert not (tmp_path / "p.parquet").exists() and not (tmp_path / "p.ingest.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]

    good = tmp_path / "good.json"
    good.write_text(json.dumps(alpaca(2)))
    (tmp_path / "dir.parquet").mkdir()
    files = listing(tmp_path)
    r = cli("ingest", good, "-o", tmp_path / "dir.parquet")
    assert r.returncode == 1 and "folder" in r.stderr and "Traceback" not in r.stderr
    assert listing(tmp_path) == files


def test_export_keeps_meta_so_round_trips_are_lossless(tmp_path):
    src = tmp_path / "s.jsonl"
    recs = [
        {
            "id": f"orig-{i}",
            "conversations": [
                {"from": "human", "value": f"q{i}"},
                {"from": "gpt", "value": f"a{i}"},
            ],
            "lang": "en",
            "score": i / 2,
        }
        for i in range(4)
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in recs))
    first = tmp_path / "first.parquet"
    assert cli("ingest", src, "-o", first, "--keep-extra").returncode == 0
    for fmt, name in (("sharegpt", "e.json"), ("messages", "e.jsonl"), ("alpaca", "a.json")):
        out = tmp_path / name
        assert cli("export", first, "-o", out, "--format", fmt).returncode == 0
        again = tmp_path / f"again_{fmt}.parquet"
        r = cli("ingest", out, "-o", again, "--keep-extra", "--source", "s")
        assert r.returncode == 0, r.stderr
        a, b = read_pool(first).to_pylist(), read_pool(again).to_pylist()
        assert a == b, fmt
    assert json.loads(read_pool(first).to_pylist()[2]["meta"]) == {
        "id": "orig-2",
        "lang": "en",
        "score": 1.0,
    }


def test_dedup_repeated_ids_and_wrong_types(tmp_path):
    src = tmp_path / "a.json"
    src.write_text(json.dumps(alpaca(5)))
    pool = tmp_path / "p.parquet"
    assert cli("ingest", src, "-o", pool).returncode == 0
    table = pq.read_table(pool)
    pq.write_table(pa.concat_tables([table, table]), tmp_path / "twice.parquet")
    r = cli("dedup", tmp_path / "twice.parquet", "-o", tmp_path / "d.parquet", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["kept"] == 5  # the exact repeats (same id, same text) removed
    assert read_pool(tmp_path / "d.parquet").column("id").to_pylist() == table["id"].to_pylist()

    rows = table.to_pylist()
    rows[0]["messages"][1]["content"] = "different"
    other = pa.Table.from_pylist(rows, schema=table.schema)
    pq.write_table(pa.concat_tables([table, other]), tmp_path / "clash.parquet")
    r = cli("dedup", tmp_path / "clash.parquet", "-o", tmp_path / "e.parquet")
    assert r.returncode == 1 and "names two different records" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "e.parquet").exists()

    bad = table.set_column(1, "source", pa.array(range(5)))
    pq.write_table(bad, tmp_path / "typed.parquet")
    for verb in ("dedup", "export"):
        r = cli(verb, tmp_path / "typed.parquet", "-o", tmp_path / f"t.{verb}")
        assert r.returncode == 1 and "column 'source' is int64" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) <= 2  # one message, never a traceback
