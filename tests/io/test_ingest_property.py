"""Property-based: real fixture files corrupted at random (truncation, byte flips, inserted
junk lines, wrong types) never cost a good record that survived the corruption (issue 12).

Each fixture is re-serialised one record per line (a JSON array keeps its brackets), so the
byte span of every record is known and the records a corruption cannot have touched are
exact: a JSONL line is untouched when the corruption is on another line; a JSON array record
is untouched when it ends before the first corrupted byte (an array cannot be resumed after a
syntax error); a compressed array's record is untouched when it lies inside what the cut
stream still decompresses to. Invariants on every case: ingest raises nothing, read = kept +
rejected per file, every untouched record is in the pool, and the output folder holds no
partial file (no temporary; no pool or manifest when nothing was kept).
"""

from __future__ import annotations

import gzip
import json
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers_io import load_records
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instructmine.io import ingest, read_pool
from shared_paths import FIXTURES

SOURCES = {
    "alpaca_5000.json": "json",
    "sharegpt_mt_bench.json": "json",
    "messages_mixed.jsonl": "jsonl",
    "dolly_original_fields.jsonl": "jsonl",
    "code_alpaca_2k.json.gz": "gz",
}
JUNK = [b"not json at all", b"{", b"[1, 2, 3]", b'{"instruction": 5}', b"\xff\xfe\x00junk", b"null"]
WRONG = [7, None, ["a"], {"x": 1}, 2.5, True]


@dataclass
class Fixture:
    name: str
    kind: str
    records: list
    lines: list[bytes]  # one serialised record each
    expected: list[str]  # each record's canonical messages (JSON), from a clean ingest

    def layout(self, lines: list[bytes]) -> bytes:
        if self.kind == "jsonl":
            return b"".join(line + b"\n" for line in lines)
        return b"[\n" + b",\n".join(lines) + b"\n]\n"

    def spans(self) -> list[tuple[int, int]]:
        """Byte span of each record in :meth:`layout` (end includes a JSONL newline)."""
        at = 0 if self.kind == "jsonl" else 2
        out = []
        for line in self.lines:
            end = at + len(line) + (1 if self.kind == "jsonl" else 0)
            out.append((at, end))
            at = end + (0 if self.kind == "jsonl" else 2)
        return out


def _messages(row: dict) -> str:
    return json.dumps([(m["role"], m["content"]) for m in row["messages"]])


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> list[Fixture]:
    out = []
    folder = tmp_path_factory.mktemp("canonical")
    for name, kind in SOURCES.items():
        records = load_records(FIXTURES / name)
        lines = [json.dumps(r, ensure_ascii=False).encode() for r in records]
        fx = Fixture(name, kind, records, lines, [])
        data = fx.layout(lines)
        path = folder / (name if kind != "gz" else name.removesuffix(".gz"))
        path.write_bytes(data)
        summary = ingest([path], folder / f"{name}.parquet")
        assert summary.rejected == 0 and summary.rows == len(records), name
        fx.expected = [_messages(r) for r in read_pool(folder / f"{name}.parquet").to_pylist()]
        out.append(fx)
    return out


def _corrupt(fx: Fixture, data, draw) -> tuple[bytes, list[int]]:
    """A corrupted file and the indices of the records it cannot have touched."""
    spans = fx.spans()
    plain = fx.layout(fx.lines)
    op = draw(st.sampled_from(["truncate", "flip", "junk", "types"]))
    if fx.kind == "gz":
        whole = gzip.compress(plain, 6)
        cut = draw(st.integers(0, len(whole) - 1))
        seen = zlib.decompressobj(wbits=47).decompress(whole[:cut])
        return whole[:cut], [i for i, (_, end) in enumerate(spans) if end <= len(seen)]
    if op == "truncate":
        cut = draw(st.integers(0, len(plain) - 1))
        return plain[:cut], [i for i, (_, end) in enumerate(spans) if end <= cut]
    if op == "flip":
        pos = draw(st.integers(0, len(plain) - 1))
        new = draw(st.integers(0, 255).filter(lambda b: b != plain[pos]))
        bad = plain[:pos] + bytes([new]) + plain[pos + 1 :]
        if fx.kind == "jsonl":
            return bad, [i for i, (s, e) in enumerate(spans) if not s <= pos < e]
        return bad, [i for i, (_, end) in enumerate(spans) if end <= pos]
    if op == "junk":
        at = draw(st.integers(0, len(fx.lines)))
        junk = draw(st.sampled_from(JUNK))
        lines = fx.lines[:at] + [junk] + fx.lines[at:]
        if fx.kind == "jsonl":
            return fx.layout(lines), list(range(len(fx.lines)))
        return fx.layout(lines), list(range(at))
    chosen = draw(st.sets(st.integers(0, len(fx.records) - 1), min_size=1, max_size=5))
    lines = list(fx.lines)
    for i in chosen:
        rec = dict(fx.records[i])
        key = draw(st.sampled_from(sorted(rec)))
        rec[key] = draw(st.sampled_from(WRONG))
        lines[i] = json.dumps(rec, ensure_ascii=False).encode()
    return fx.layout(lines), [i for i in range(len(fx.lines)) if i not in chosen]


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_corrupted_fixtures_never_lose_a_surviving_record(fixtures, data):
    fx = data.draw(st.sampled_from(fixtures))
    bad, untouched = _corrupt(fx, data, data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in" / fx.name
        src.parent.mkdir()
        src.write_bytes(bad)
        out = Path(tmp) / "out"
        summary = ingest([src], out / "pool.parquet")  # raises nothing, whatever the bytes
        for part in summary.parts:
            assert part.read == part.kept + part.rejected, part
        names = {p.name for p in out.iterdir()}
        assert not [n for n in names if n.startswith(".tmp-")]
        if summary.rows == 0:
            assert names <= {"pool.rejects.jsonl"}
            kept = Counter()
        else:
            assert names <= {"pool.parquet", "pool.rejects.jsonl", "pool.ingest.json"}
            kept = Counter(_messages(r) for r in read_pool(out / "pool.parquet").to_pylist())
        want = Counter(fx.expected[i] for i in untouched)
        assert not want - kept, f"{len(want - kept)} untouched record(s) not kept"
        assert src.read_bytes() == bad  # the source is never modified
