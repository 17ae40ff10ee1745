"""Readers beyond JSON: Parquet, CSV, datasets folders, hub ids; stable unique ids."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers_io import load_records, read_jsonl

from instructmine.io import IngestError, PoolError, ingest, iter_pool, read_pool
from instructmine.io.ids import OccurrenceCounter
from shared_paths import FIXTURES


def _messages_of(path):
    return [r["messages"] for r in read_pool(path).to_pylist()]


def test_parquet_csv_and_json_give_the_same_pool(tmp_path):
    raw = load_records(FIXTURES / "alpaca_5000.json")
    pq.write_table(pa.Table.from_pylist(raw), tmp_path / "a.parquet")
    with open(tmp_path / "a.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["instruction", "input", "output"])
        w.writeheader()
        w.writerows(raw)
    ingest([FIXTURES / "alpaca_5000.json"], tmp_path / "ref.parquet", source=None)
    for name in ("a.parquet", "a.csv"):
        s = ingest([tmp_path / name], tmp_path / f"out_{name}.parquet")
        assert s.read == len(raw) and s.rejected == 0
        assert _messages_of(tmp_path / f"out_{name}.parquet") == _messages_of(
            tmp_path / "ref.parquet"
        )


def test_csv_bad_rows_report_lines(tmp_path):
    src = tmp_path / "b.csv"
    src.write_bytes(
        b'instruction,input,output\nQ1,,A1\nQ2,,A2,extra\n"Q3\nspans two lines",,A3\nQ4,,\xff\n'
    )
    summary = ingest([src], tmp_path / "p.parquet")
    rejects = {r["line"]: r["reason"] for r in read_jsonl(tmp_path / "p.rejects.jsonl")}
    assert summary.read == 4 and summary.kept == 2
    assert "4 fields, the header has 3" in rejects[3]
    assert "not valid UTF-8" in rejects[6]


def test_save_to_disk_folder_and_dataset_dict(tmp_path):
    import datasets

    raw = load_records(FIXTURES / "sharegpt_mt_bench.json")
    ds = datasets.Dataset.from_list(raw)
    ds.save_to_disk(str(tmp_path / "ds"))
    datasets.DatasetDict({"train": ds, "test": ds.select(range(5))}).save_to_disk(
        str(tmp_path / "dd")
    )
    ingest([FIXTURES / "sharegpt_mt_bench.json"], tmp_path / "ref.parquet")
    s = ingest([tmp_path / "ds"], tmp_path / "ds.parquet")
    assert s.parts[0].format == "sharegpt" and s.read == len(raw)
    assert _messages_of(tmp_path / "ds.parquet") == _messages_of(tmp_path / "ref.parquet")
    s = ingest([tmp_path / "dd"], tmp_path / "dd.parquet")
    assert sorted((p.path.rsplit("[", 1)[1], p.read) for p in s.parts) == [
        ("test]", 5),
        ("train]", len(raw)),
    ]
    s = ingest([tmp_path / "dd"], tmp_path / "dd2.parquet", split="test")
    assert s.read == 5


def test_hub_id_offline_fails_fast_with_a_clear_message(tmp_path):
    code = (
        "from instructmine.io import ingest, IngestError\n"
        "try:\n"
        "    ingest(['some-org/some-dataset'], r'%s', strict=True)\n"
        "except IngestError as e:\n"
        "    print('ERR', e)\n"
    ) % (tmp_path / "p.parquet")
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert "ERR some-org/some-dataset: no such local file or folder" in out.stdout
    assert "offline" in out.stdout and "HF_HUB_OFFLINE" in out.stdout
    # no offline flag, but the hub endpoint does not answer: the probe switches to offline
    env = {k: v for k, v in os.environ.items() if "OFFLINE" not in k}
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert "ERR some-org/some-dataset" in out.stdout and "did not answer" in out.stdout


def test_missing_path_with_data_suffix_is_not_sent_to_the_hub(tmp_path):
    with pytest.raises(IngestError, match="no such file or folder"):
        ingest([tmp_path / "nope" / "data.jsonl"], tmp_path / "p.parquet", strict=True)


def test_ids_stable_unique_with_repeats(tmp_path):
    rec = {"instruction": "Say hi", "input": "", "output": "hi"}
    other = {"instruction": "Say bye", "input": "", "output": "bye"}
    src = tmp_path / "rep.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in [rec, other, rec, rec]))
    ingest([src], tmp_path / "a.parquet", batch_size=2)
    ingest([src], tmp_path / "b.parquet")
    a = read_pool(tmp_path / "a.parquet")["id"].to_pylist()
    assert a == read_pool(tmp_path / "b.parquet")["id"].to_pylist()  # batch size does not matter
    assert len(set(a)) == 4
    assert a[2] == a[0] + "-2" and a[3] == a[0] + "-3"
    ingest([src], tmp_path / "c.parquet", source="elsewhere")
    assert set(read_pool(tmp_path / "c.parquet")["id"].to_pylist()).isdisjoint(a)


def test_occurrence_counter_matches_a_plain_count():
    rng = random.Random(0)
    keys = [rng.randrange(500) for _ in range(5000)]
    counter, seen, got, want = OccurrenceCounter(), {}, [], []
    for start in range(0, len(keys), 97):
        chunk = keys[start : start + 97]
        got += counter.occurrences(np.array(chunk, dtype=np.uint64)).tolist()
        for k in chunk:
            seen[k] = seen.get(k, 0) + 1
            want.append(seen[k])
    assert got == want
    assert len(counter) == len(set(keys))


def test_iter_pool_streams_batches(tmp_path):
    ingest(
        [FIXTURES / "alpaca_5000.json", FIXTURES / "p3_ag_news.jsonl.gz"],
        tmp_path / "p.parquet",
        batch_size=7,
    )
    batches = list(iter_pool(tmp_path / "p.parquet", batch_size=16))
    assert sum(b.num_rows for b in batches) == 60 and max(b.num_rows for b in batches) <= 16
    with pytest.raises(PoolError, match="not an instructmine pool"):
        pq.write_table(pa.table({"x": [1]}), tmp_path / "x.parquet")
        read_pool(tmp_path / "x.parquet")
