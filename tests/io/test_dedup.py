"""Exact and near-duplicate removal on real records with planted duplicates."""

from __future__ import annotations

import json

from helpers_io import load_records, read_jsonl

from instructmine.dedup import DedupConfig, dedup_pool, normalise
from instructmine.io import ingest, read_pool
from shared_paths import FIXTURES


def _pool(tmp_path, records):
    src = tmp_path / "d.json"
    src.write_text(json.dumps(records))
    ingest([src], tmp_path / "pool.parquet")
    return tmp_path / "pool.parquet", read_pool(tmp_path / "pool.parquet")["id"].to_pylist()


def test_exact_and_near_duplicates(tmp_path):
    raw = load_records(FIXTURES / "sharegpt_mt_bench.json")  # long multi-turn answers
    base = [
        {
            "instruction": c["conversations"][1]["value"],
            "input": "",
            "output": c["conversations"][2]["value"],
        }
        for c in raw
    ]
    exact = dict(base[0], output="  " + base[0]["output"].upper() + "\n")  # case/space only
    words = base[1]["output"].split()
    near = dict(base[1], output=" ".join(words[:-3] + ["entirely", "different", "ending."]))
    records = base + [exact, near]
    pool, ids = _pool(tmp_path, records)
    summary = dedup_pool(pool, tmp_path / "dd.parquet", DedupConfig(threshold=0.7))
    assert (summary.records, summary.exact_removed, summary.near_removed) == (len(records), 1, 1)
    kept = read_pool(tmp_path / "dd.parquet")["id"].to_pylist()
    assert kept == ids[: len(base)]
    clusters = {c["kept"]: c["duplicates"] for c in read_jsonl(tmp_path / "dd.clusters.jsonl")}
    assert clusters[ids[0]] == [{"id": ids[-2], "kind": "exact", "similarity": 1.0}]
    (near_dup,) = clusters[ids[1]]
    assert near_dup["id"] == ids[-1] and near_dup["kind"] == "near"
    assert 0.7 <= near_dup["similarity"] < 1.0


def test_exact_only_keeps_near_duplicates_and_default_ingest_keeps_all(tmp_path):
    base = load_records(FIXTURES / "alpaca_5000.json")
    edited = dict(base[0], output=base[0]["output"] + " Indeed.")
    pool, ids = _pool(tmp_path, base + [base[0], edited])
    assert len(ids) == len(base) + 2  # ingest itself never drops repeats
    s = dedup_pool(pool, tmp_path / "e.parquet", DedupConfig(method="exact"))
    assert (s.exact_removed, s.near_removed, s.kept) == (1, 0, len(base) + 1)


def test_normalise():
    assert normalise("  Hello\n\tWORLD  ") == "hello world"
    assert normalise("ﬁ") == "fi"  # NFKC
