"""The proxy hook: each trial's subset is written as a pool and handed to a ``fit`` function."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from instructmine.io import ingest, read_pool
from instructmine.search.config import SearchConfig
from instructmine.search.run import run_search
from instructmine.select.subsets import Ranking, Trial
from instructmine.select.trials import TrialsTable
from shared_paths import FIXTURES


def _pool_ranked_by_answer_length(tmp_path):
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text())
    (tmp_path / "a.json").write_text(json.dumps(recs))
    ingest([tmp_path / "a.json"], tmp_path / "pool.parquet")
    t = read_pool(tmp_path / "pool.parquet")
    lengths = {
        i: len(m[-1]["content"])
        for i, m in zip(t["id"].to_pylist(), t["messages"].to_pylist(), strict=True)
    }
    # the "rule": shorter answers rank first
    pq.write_table(
        pa.table({"id": list(lengths), "predicted_log_loss": [float(v) for v in lengths.values()]}),
        tmp_path / "ranked.parquet",
    )
    return lengths


def _cfg(tmp_path, **kw):
    return SearchConfig(
        objective={
            "factory": "instructmine.search.objectives:subset_loss",
            "params": {"fit": "cheap_objective:mean_answer_length"},
        },
        out=tmp_path / "s",
        ranked=tmp_path / "ranked.parquet",
        pool=tmp_path / "pool.parquet",
        lo=3,
        hi=25,
        trials=4,
        grid=3,
        random_seeds=[0, 1, 2],
        **kw,
    )


def test_subset_loss_trains_on_top_n_and_random_n(tmp_path):
    lengths = _pool_ranked_by_answer_length(tmp_path)
    result = run_search(_cfg(tmp_path))
    by_len = sorted(lengths, key=lambda i: (lengths[i], i))
    for row in result.rows:
        assert row.loss == np.mean([lengths[i] for i in by_len[: row.n]])
        assert row.random_seeds == 3 and row.random_mean > row.loss
    assert result.best_n == 3
    assert (tmp_path / "s" / "trials" / "top_3" / "seen.txt").read_text() == "3"
    ranking = Ranking.load(tmp_path / "ranked.parquet", "predicted_log_loss", False)
    a, b = ranking.subset(Trial(10, "random", 1)), ranking.subset(Trial(5, "random", 1))
    assert b == a[:5] and len(set(a)) == 10  # random subsets nest across n for one seed


def test_full_pool_baseline_trains_once_on_every_ranked_record(tmp_path):
    lengths = _pool_ranked_by_answer_length(tmp_path)
    result = run_search(_cfg(tmp_path, full=True))
    n = len(lengths)
    assert result.full_n == n and result.full_loss == np.mean(list(lengths.values()))
    assert (tmp_path / "s" / "trials" / f"full_{n}" / "seen.txt").read_text() == str(n)
    table = TrialsTable(tmp_path / "s" / "trials.jsonl")
    assert table.rows[f"full:{n}"]["phase"] == "full" and table.full() == {n: result.full_loss}
    assert n not in table.top() and result.best_n == 3  # not a candidate n of the search
    again = run_search(_cfg(tmp_path, full=True))
    assert again.ran == 0 and again.full_loss == result.full_loss
    with pytest.raises(ValueError, match="ranked"):
        SearchConfig(objective={"factory": "x:y"}, out=tmp_path / "z", lo=1, hi=9, full=True)
