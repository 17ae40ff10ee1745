"""The proxy as the size search's ``fit`` hook: one trunk cache for every trial, real losses."""

from __future__ import annotations

from instructmine.io.pool import write_subset
from instructmine.proxy.objective import eval_loss
from instructmine.search.objective import SearchContext
from instructmine.search.objectives import subset_loss
from instructmine.select.subsets import Trial
from shared_paths import tiny_proxy


def test_proxy_fit_hook_shares_one_cache_and_separates_subsets(tmp_path, rule_data, tiny_llama_dir):
    params = {
        "candidates": str(rule_data["pool"]),
        "eval": str(rule_data["eval"]),
        "proxy": tiny_proxy(tiny_llama_dir),
        "trunk_dir": str(tmp_path / "trunk"),
    }
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_subset(rule_data["pool"], [f"alpha{i}" for i in range(12)], a)
    write_subset(rule_data["pool"], [f"beta{i}" for i in range(12)], b)
    la = eval_loss(a, tmp_path, **params)
    lb = eval_loss(b, tmp_path, **params)
    assert la != lb  # different data, different fine-tunes
    assert eval_loss(a, tmp_path, **params) == la  # same subset and seed: the same loss
    assert eval_loss(a, tmp_path, seed=1, **params) != la  # another seed: another draw
    caches = [p for p in (tmp_path / "trunk").iterdir() if p.is_dir()]
    assert len(caches) == 1  # one cache over the candidates (beside it, its build lock)


def test_size_search_objective_runs_the_proxy_on_top_n(tmp_path, rule_data, tiny_llama_dir):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from instructmine.select.subsets import Ranking

    ids = pq.read_table(rule_data["pool"], columns=["id"]).column("id")
    ranked = tmp_path / "ranked.parquet"
    pq.write_table(pa.table({"id": ids, "score": list(range(len(ids)))}), ranked)
    ctx = SearchContext(Ranking.load(ranked, "score", False), rule_data["pool"], tmp_path / "s")
    objective = subset_loss(
        ctx,
        fit="instructmine.proxy.objective:eval_loss",
        fit_params={
            "candidates": str(rule_data["pool"]),
            "eval": str(rule_data["eval"]),
            "proxy": tiny_proxy(tiny_llama_dir),
            "trunk_dir": str(tmp_path / "trunk"),
        },
    )
    losses = {n: objective(Trial(n=n)) for n in (8, 16)}
    assert all(v > 0 for v in losses.values()) and losses[8] != losses[16]
