"""``select --method rds | ifd``: RDS+ with a tiny model built in the test, IFD top-n, errors."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from instructmine.io import ingest, read_pool
from instructmine.scoring import score_pool
from instructmine.select.config import RdsSettings, SelectConfig
from instructmine.select.run import manifest_path, run_select
from shared_paths import FIXTURES, run_cli


@pytest.fixture
def pool_and_queries(tmp_path):
    """40 alpaca records as a pool; 3 of them (whole conversations) as the query set."""
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text())[:40]
    (tmp_path / "pool.json").write_text(json.dumps(recs))
    ingest([tmp_path / "pool.json"], tmp_path / "pool.parquet")
    (tmp_path / "q.json").write_text(json.dumps([recs[3], recs[11], recs[20]]))
    ingest([tmp_path / "q.json"], tmp_path / "q.parquet")
    pool = read_pool(tmp_path / "pool.parquet").to_pydict()
    queries = read_pool(tmp_path / "q.parquet")["messages"].to_pylist()
    q_ids = [pool["id"][pool["messages"].index(m)] for m in queries]
    return tmp_path / "pool.parquet", tmp_path / "q.parquet", q_ids


def test_rds_selects_each_querys_record_and_reuses_cached_embeddings(
    pool_and_queries, tmp_path, tiny_llama_dir, monkeypatch
):
    pool, queries, q_ids = pool_and_queries
    monkeypatch.setenv("INSTRUCTMINE_CACHE", str(tmp_path / "cache"))  # RDS+ embeddings go there
    rds = RdsSettings(model=str(tiny_llama_dir), query_prompts_only=False)
    cfg = SelectConfig(method="rds", rds=rds, top=3)
    s = run_select(pool, tmp_path / "sel.parquet", cfg, queries=queries, work_dir=tmp_path / "w")
    assert s.method == "rds" and s.rule == {"by": "rds_rank", "order": "ascending"}
    assert sorted(s.ids) == sorted(q_ids)  # identical text: cosine 1, each query's best
    doc = json.loads(manifest_path(tmp_path / "sel.parquet").read_text())
    assert doc["method"] == "rds" and doc["parameters"]["rds"]["model"] == str(tiny_llama_dir)
    assert "queries" in doc["stage"]["inputs"]
    assert len(list((tmp_path / "cache" / "rds").glob("*.npy"))) == 2  # pool, queries
    ranked = pq.read_table(tmp_path / "w" / "rds_rank.parquet").to_pydict()
    assert sorted(ranked["rds_rank"]) == list(range(read_pool(pool).num_rows))

    # a second selection (another n, another work dir) embeds nothing again
    def refuse(*args, **kwargs):
        raise AssertionError("embedded again despite the cache")

    monkeypatch.setattr("instructmine.select.rds.weighted_mean_embed", refuse)
    s5 = run_select(
        pool,
        tmp_path / "sel5.parquet",
        cfg.model_copy(update={"top": 5}),
        queries=queries,
        work_dir=tmp_path / "w5",
    )
    assert s5.ids[:3] == s.ids and len(s5.ids) == 5
    # prompts-only queries are other texts: a miss, so it must embed
    other = SelectConfig(method="rds", rds=RdsSettings(model=str(tiny_llama_dir)), top=3)
    with pytest.raises(AssertionError, match="embedded again"):
        run_select(pool, tmp_path / "p.parquet", other, queries=queries, work_dir=tmp_path / "w")


def test_rds_needs_queries(pool_and_queries, tmp_path):
    pool, _, _ = pool_and_queries
    with pytest.raises(ValueError, match="--queries"):
        run_select(pool, tmp_path / "x.parquet", SelectConfig(method="rds", top=3))


def test_ifd_takes_highest_ifd_at_most_one_and_records_method(pool_and_queries, tmp_path):
    pool, _, _ = pool_and_queries
    ids = read_pool(pool)["id"].to_pylist()
    ifd = [0.2 + 0.03 * i for i in range(len(ids))]  # 0.2 .. 1.37: the top ones are above 1
    pq.write_table(pa.table({"id": ids, "ifd": ifd}), tmp_path / "ifd.parquet")
    s = run_select(
        tmp_path / "ifd.parquet",
        tmp_path / "sel.parquet",
        SelectConfig(method="ifd", top=4),
        pool=pool,
    )
    keep = [i for i, v in sorted(zip(ids, ifd, strict=True), key=lambda p: -p[1]) if v <= 1.0]
    assert s.ids == keep[:4] and s.method == "ifd"
    doc = json.loads(manifest_path(tmp_path / "sel.parquet").read_text())
    assert doc["parameters"]["method"] == "ifd" and doc["parameters"]["below"] == 1.0
    with pytest.raises(ValueError, match="drop --by"):
        SelectConfig(method="ifd", by="reward", top=3)


def test_ifd_missing_names_the_files_and_the_command(pool_and_queries, tmp_path):
    pool, _, _ = pool_and_queries
    score_pool(pool, tmp_path / "scores", ["output_length"], progress=False)
    r = run_cli(
        "select",
        pool,
        "--method",
        "ifd",
        "--top",
        3,
        "--scores",
        tmp_path / "scores",
        "-o",
        tmp_path / "x.parquet",
    )
    assert r.returncode == 1
    assert "'ifd'" in r.stderr and str(pool) in r.stderr and "scores" in r.stderr
    assert "instructmine score POOL -o SCORES -i ifd" in r.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_cli_rds_end_to_end(pool_and_queries, tmp_path, tiny_llama_dir):
    pool, queries, q_ids = pool_and_queries
    out = tmp_path / "sel.parquet"
    r = run_cli(
        "select",
        pool,
        "--method",
        "rds",
        "--queries",
        queries,
        "--model",
        tiny_llama_dir,
        "--top",
        6,
        "-o",
        out,
        env={"INSTRUCTMINE_CACHE": str(tmp_path / "cache")},  # not the user's cache
    )
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "cache" / "rds").glob("*.npy"))) == 2
    assert f"selected 6 of {read_pool(pool).num_rows}" in r.stdout and "method rds" in r.stdout
    doc = json.loads(manifest_path(out).read_text())
    assert len(doc["ids"]) == 6 and doc["method"] == "rds"
    assert (tmp_path / "sel.work" / "rds_rank.parquet").is_file()
