"""Selection on real fixture records: exact, deterministic, quotas, dedup clusters, manifest."""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from instructmine.dedup import DedupConfig, dedup_pool
from instructmine.io import ingest, read_pool
from instructmine.select.config import Quota, SelectConfig
from instructmine.select.run import manifest_path, run_select
from shared_paths import FIXTURES


def _records(name, k):
    return json.loads((FIXTURES / name).read_text())[:k]


@pytest.fixture
def pool(tmp_path):
    """A two-source pool (alpaca, dolly: 30 records each) and a RANKED file with tied scores."""
    (tmp_path / "alpaca.json").write_text(json.dumps(_records("alpaca_5000.json", 200)))
    (tmp_path / "dolly.json").write_text(json.dumps(_records("dolly_3k.json", 200)))
    path = tmp_path / "pool.parquet"
    ingest([tmp_path / "alpaca.json", tmp_path / "dolly.json"], path)
    t = read_pool(path)
    # score: answer length in tens of characters, so many records tie
    scores = [float(len(m[-1]["content"]) // 10) for m in t["messages"].to_pylist()]
    rows = list(zip(t["id"].to_pylist(), scores, t["source"].to_pylist(), strict=True))
    random.Random(0).shuffle(rows)  # RANKED's row order must not matter
    ranked = tmp_path / "ranked.parquet"
    pq.write_table(
        pa.table({"id": [r[0] for r in rows], "predicted_log_loss": [r[1] for r in rows]}), ranked
    )
    return path, ranked, rows


def _expected(rows, n, reverse=False):
    key = (lambda r: (-r[1], r[0])) if reverse else (lambda r: (r[1], r[0]))
    return [r[0] for r in sorted(rows, key=key)][:n]


def test_top_n_exact_deterministic_and_skipped_when_unchanged(pool, tmp_path):
    path, ranked, rows = pool
    out = tmp_path / "top.parquet"
    s = run_select(ranked, out, SelectConfig(top=37), pool=path)
    want = _expected(rows, 37)
    assert s.ids == want and s.selected == 37 and not s.skipped
    assert set(read_pool(out)["id"].to_pylist()) == set(want)
    doc = json.loads(manifest_path(out).read_text())
    assert doc["ids"] == want and doc["stage"]["name"] == "select"
    assert doc["threshold_reached"] == dict((r[0], r[1]) for r in rows)[want[-1]]
    again = run_select(ranked, out, SelectConfig(top=37), pool=path)
    assert again.skipped and again.ids == want
    # the same ranking in another row order selects the same records
    t = pq.read_table(ranked)
    pq.write_table(t.take(pa.array(list(range(t.num_rows))[::-1])), tmp_path / "rev.parquet")
    other = run_select(
        tmp_path / "rev.parquet", tmp_path / "o.parquet", SelectConfig(top=37), pool=path
    )
    assert other.ids == want


def test_frac_descending_and_thresholds(pool, tmp_path):
    path, ranked, rows = pool
    s = run_select(
        ranked, tmp_path / "a.parquet", SelectConfig(frac=0.25, order="descending"), pool=path
    )
    assert s.ids == _expected(rows, round(0.25 * len(rows)), reverse=True)
    cut = sorted(r[1] for r in rows)[20]
    s = run_select(ranked, tmp_path / "b.parquet", SelectConfig(below=cut), pool=path)
    assert s.ids == [
        r for r in _expected(rows, len(rows)) if dict((x[0], x[1]) for x in rows)[r] <= cut
    ]
    s = run_select(
        ranked,
        tmp_path / "c.parquet",
        SelectConfig(above=cut, top=5, order="descending"),
        pool=path,
    )
    assert s.ids == _expected(rows, 5, reverse=True)


def test_quota_per_source(pool, tmp_path):
    path, ranked, rows = pool
    cfg = SelectConfig(top=60, quotas=[Quota.parse("source=dolly:10")])
    s = run_select(ranked, tmp_path / "q.parquet", cfg, pool=path)
    want, dolly = [], 0
    for rid, _, src in sorted(rows, key=lambda r: (r[1], r[0])):
        if src == "dolly":
            if dolly == 10:
                continue
            dolly += 1
        want.append(rid)
    assert s.ids == want[:60]
    assert s.passed_over["quota"] > 0
    star = run_select(
        ranked,
        tmp_path / "s.parquet",
        SelectConfig(top=30, quotas=[Quota.parse("source=*:15")]),
        pool=path,
    )
    srcs = dict((r[0], r[2]) for r in rows)
    assert sorted(srcs[i] for i in star.ids).count("dolly") == 15


def test_quota_parse_errors():
    with pytest.raises(ValueError, match="COLUMN=VALUE:LIMIT"):
        Quota.parse("source:alpaca")
    with pytest.raises(ValueError, match="--top or --frac"):
        SelectConfig(top=3, frac=0.5)


def test_dedup_clusters_count_once(tmp_path):
    recs = _records("alpaca_5000.json", 30) + _records("dolly_3k.json", 10)
    recs = [
        {
            "instruction": r.get("instruction"),
            "input": r.get("input") or r.get("context") or "",
            "output": r.get("output") or r.get("response"),
        }
        for r in recs
    ]
    dups = [dict(recs[i], output=recs[i]["output"].upper() + " ") for i in range(0, 40, 4)]
    (tmp_path / "d.json").write_text(json.dumps(recs + dups))
    path = tmp_path / "pool.parquet"
    ingest([tmp_path / "d.json"], path)
    ids = read_pool(path)["id"].to_pylist()
    dedup_pool(path, tmp_path / "dd.parquet", DedupConfig(method="exact"))
    # a ranking that puts every planted duplicate first
    scores = [0.0 if i >= 40 else 1.0 + i for i in range(len(ids))]
    pq.write_table(pa.table({"id": ids, "predicted_log_loss": scores}), tmp_path / "r.parquet")
    s = run_select(
        tmp_path / "r.parquet",
        tmp_path / "sel.parquet",
        SelectConfig(top=20),
        pool=path,
        clusters=tmp_path / "dd.clusters.jsonl",
    )
    dup_of = {ids[40 + k]: ids[i] for k, i in enumerate(range(0, 40, 4))}
    members = [dup_of.get(i, i) for i in s.ids]
    assert len(set(members)) == 20 == len(s.ids)
    # copies first (tied, so by id), then originals in order, those with a chosen copy skipped
    want = sorted(dup_of) + [ids[i] for i in range(40) if i % 4][:10]
    assert s.ids == want and s.passed_over["cluster"] == 4


def test_errors_name_the_fix(pool, tmp_path):
    path, ranked, _ = pool
    with pytest.raises(ValueError, match="--scores DIR"):
        run_select(ranked, tmp_path / "x.parquet", SelectConfig(top=3, by="ifd"), pool=path)
    with pytest.raises(ValueError, match="--scores DIR"):
        run_select(ranked, tmp_path / "x.parquet", SelectConfig(top=3, diverse=0.9), pool=path)
