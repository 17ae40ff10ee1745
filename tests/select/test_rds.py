"""RDS+ with a tiny Llama built in the test: pooling, round-robin order, ranking a real pool."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq

from instructmine.io import ingest, read_pool
from instructmine.select.rds import rds_rank, round_robin, weighted_mean_embed
from shared_paths import FIXTURES


def test_round_robin_takes_each_querys_best_in_turn():
    sim = np.array(
        [
            [0.9, 0.8, 0.1, 0.0, 0.5],  # query 0 prefers 0, 1, 4
            [0.95, 0.1, 0.7, 0.6, 0.2],  # query 1 prefers 0 (taken), then 2, 3
        ]
    )
    assert round_robin(sim).tolist() == [0, 2, 1, 3, 4]
    assert round_robin(sim, limit=3).tolist() == [0, 2, 1]
    assert round_robin(np.zeros((3, 4))).tolist() == [0, 1, 2, 3]  # ties: pool order


def test_weighted_mean_pooling_matches_by_hand_and_ignores_padding(tiny_llama_dir):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    # batched shortest first, rows back in the input order (the long text comes first here)
    texts = ["a much longer text than the others, padded less than they are", "a short one"]
    texts += ["mid length text here", "x"]
    batch = weighted_mean_embed(model, tok, texts, batch_size=3)
    for i, text in enumerate(texts):
        ids = tok(text, return_tensors="pt")
        with torch.no_grad():
            h = model(**ids, output_hidden_states=True).hidden_states[-1][0]
        w = torch.arange(1, h.shape[0] + 1, dtype=h.dtype)
        v = (h * w[:, None]).sum(0) / w.sum()
        v = (v / v.norm()).numpy()
        assert np.allclose(batch[i], v, atol=1e-5)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


def test_rds_rank_puts_each_querys_own_record_first(tmp_path, tiny_llama_dir):
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text())
    (tmp_path / "pool.json").write_text(json.dumps(recs))
    ingest([tmp_path / "pool.json"], tmp_path / "pool.parquet")
    picked = [recs[3], recs[11], recs[20]]
    (tmp_path / "q.json").write_text(json.dumps(picked))
    ingest([tmp_path / "q.json"], tmp_path / "q.parquet")
    out = rds_rank(
        tmp_path / "pool.parquet",
        tmp_path / "q.parquet",
        str(tiny_llama_dir),
        tmp_path / "rds.parquet",
        query_prompts_only=False,
    )
    t = pq.read_table(out).to_pydict()
    pool_ids = read_pool(tmp_path / "pool.parquet")["id"].to_pylist()
    assert t["id"] == pool_ids and sorted(t["rds_rank"]) == list(range(len(pool_ids)))
    first = {t["id"][i] for i in range(len(pool_ids)) if t["rds_rank"][i] < 3}
    pool = read_pool(tmp_path / "pool.parquet").to_pydict()
    queries = read_pool(tmp_path / "q.parquet")["messages"].to_pylist()
    # ids hash the source too, so find the queries' records in the pool by their text
    q_ids = {pool["id"][pool["messages"].index(m)] for m in queries}
    assert len(q_ids) == 3 and first == q_ids  # identical text: cosine 1, each query's best
    assert all(abs(t["rds_score"][pool_ids.index(i)] - 1.0) < 1e-4 for i in q_ids)
