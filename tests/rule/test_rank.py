"""Applying a rule per record and ranking, streamed through sorted runs and a k-way merge."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers_rule import two_term_rule

from instructmine.rule import order
from instructmine.rule.rank import rank_pool
from instructmine.rule.rules import RuleError, load_rule


def _scores(path, n, seed=0, nulls=0, ties=False):
    rng = np.random.default_rng(seed)
    reward = rng.normal(0, 1, n).round(1 if ties else 6)
    mtld = rng.normal(50, 10, n).round(0 if ties else 6)
    reward_arr = pa.array(reward, mask=np.arange(n) < nulls)
    t = pa.table({"id": [f"r{i}" for i in range(n)], "reward": reward_arr, "mtld": mtld})
    pq.write_table(t, path, row_group_size=997)
    return t


def _expected(t: pa.Table) -> tuple[list[str], np.ndarray]:
    reward = t["reward"].to_numpy(zero_copy_only=False).astype(float)
    mtld = t["mtld"].to_numpy()
    formula = 0.5 - 0.2 * (reward - 1.0) / 2.0 + 0.1 * (mtld - 50.0) / 10.0
    pred = two_term_rule().predict({"reward": reward, "mtld": mtld})  # same rounding as the rule's
    np.testing.assert_allclose(pred, formula, equal_nan=True)
    key = np.where(np.isnan(pred), np.inf, pred)
    idx = np.lexsort((np.arange(len(pred)), key))
    return [t["id"][int(i)].as_py() for i in idx], pred[idx]


@pytest.mark.parametrize("fan_in", [64, 3])
def test_rank_equals_a_whole_table_sort(tmp_path, monkeypatch, fan_in):
    monkeypatch.setattr(order, "FAN_IN", fan_in)  # 3: several merge levels
    t = _scores(tmp_path / "s.parquet", 5000, nulls=7, ties=True)
    s = rank_pool(tmp_path / "s.parquet", two_term_rule(), tmp_path / "r.parquet", batch_rows=300)
    assert s.records == 5000 and s.unscored == 7
    got = pq.read_table(tmp_path / "r.parquet")
    ids, pred = _expected(t)
    assert got["id"].to_pylist() == ids
    np.testing.assert_allclose(got["predicted_log_loss"].to_numpy(), pred, equal_nan=True)
    assert got["rank"].to_pylist() == list(range(1, 5001))
    assert np.isnan(got["predicted_log_loss"].to_numpy()[-7:]).all()  # null scores rank last


def test_score_folder_with_one_file_per_indicator(tmp_path):
    import json

    t = _scores(tmp_path / "all.parquet", 1200, seed=1)
    folder = tmp_path / "scores"
    folder.mkdir()
    pq.write_table(t.select(["id", "reward"]), folder / "reward.parquet", row_group_size=500)
    pq.write_table(t.select(["id", "mtld"]), folder / "mtld.parquet", row_group_size=333)
    files = {"reward": str(folder / "reward.parquet"), "mtld": str(folder / "mtld.parquet")}
    (folder / "scores.json").write_text(json.dumps({"files": files}))
    rank_pool(folder, two_term_rule(), tmp_path / "r.parquet", batch_rows=256)
    assert pq.read_table(tmp_path / "r.parquet")["id"].to_pylist() == _expected(t)[0]


def test_missing_columns_named(tmp_path):
    _scores(tmp_path / "s.parquet", 10)
    with pytest.raises(RuleError) as e:
        rank_pool(tmp_path / "s.parquet", "paper-final", tmp_path / "r.parquet")
    msg = str(e.value)
    for col in ("unieval_understandability", "unieval_naturalness", "unieval_coherence"):
        assert col in msg
    assert "'reward'" not in msg.split("lacks")[0].split("columns")[1]
    assert not (tmp_path / "r.parquet").exists()


def test_rank_stage_skips_when_unchanged(tmp_path):
    _scores(tmp_path / "s.parquet", 100)
    first = rank_pool(tmp_path / "s.parquet", two_term_rule(), tmp_path / "r.parquet")
    again = rank_pool(tmp_path / "s.parquet", two_term_rule(), tmp_path / "r.parquet")
    assert not first.skipped and again.skipped
    other = two_term_rule().model_copy(update={"intercept": 0.7})
    assert not rank_pool(tmp_path / "s.parquet", other, tmp_path / "r.parquet").skipped


def test_builtin_rules_load_and_are_marked_quoted():
    final, early = load_rule("paper-final"), load_rule("paper-early")
    assert final.quoted_from_paper and early.quoted_from_paper
    assert final.columns == [
        "reward",
        "unieval_understandability",
        "unieval_naturalness",
        "unieval_coherence",
    ]
    assert [t.coef for t in final.terms] == [-0.0078, 0.4421, -0.3212, -0.1520]
    assert final.intercept == 0.0274 and early.intercept == 1.0694
    assert early.columns == ["reward", "output_length", "knn_6"]


def test_rule_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "intercept": 1, "terms": [], "surprise": 1}')
    with pytest.raises(RuleError, match="bad.json.*not a valid rule"):
        load_rule(bad)
    with pytest.raises(RuleError, match="built-in rule"):
        load_rule(tmp_path / "absent.json")
