"""The built-in ``smollm2-proxy`` rule (fitted by the proxy experiments, not the paper's): it
loads, lists as fitted, ranks a scored fixture pool by its JSON coefficients, and a score folder
made with other indicator parameters than the fit's is reported, not silently ranked."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console

from instructmine.indicators.registry import DEFAULT_INDICATORS
from instructmine.io import ingest, read_pool
from instructmine.rule.apply import param_mismatches
from instructmine.rule.rank import rank_pool
from instructmine.rule.report import builtin_table
from instructmine.rule.rules import Rule, builtin_names, indicator_needs, load_rule
from instructmine.select.config import SelectConfig
from instructmine.select.run import run_select
from shared_paths import FIXTURES, run_cli

NAME = "smollm2-proxy"


def _raw() -> dict:
    """The rule file's JSON, read without the Rule model."""
    path = resources.files("instructmine.data") / "rules" / f"{NAME}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _fixture_pool(tmp_path, n=30):
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text())[:n]
    (tmp_path / "pool.json").write_text(json.dumps(recs))
    ingest([tmp_path / "pool.json"], tmp_path / "pool.parquet")
    return read_pool(tmp_path / "pool.parquet")["id"].to_pylist()


def _score_folder(folder, ids, raw, seed=0, override=None):
    """One Parquet file per column the rule needs, values near the fit's means, and a
    ``scores.json`` recording the rule's own parameters (``override`` changes some)."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    files, provenance = {}, {}
    for need in raw["indicators"]:
        col = need["column"]
        term = next(t for t in raw["terms"] if t["aggregate"].startswith(col + "."))
        values = rng.normal(term["mean"], term["std"], len(ids))
        pq.write_table(pa.table({"id": ids, col: values}), folder / f"{col}.parquet")
        files[col] = str(folder / f"{col}.parquet")
        params = {**need["params"], **(override or {}).get(col, {})}
        provenance[col] = {"indicator": need["indicator"], "params": params}
    (folder / "scores.json").write_text(json.dumps({"files": files, "provenance": provenance}))
    return {c: pq.read_table(f)[c].to_numpy() for c, f in files.items()}


def test_builtin_proxy_rule_loads_and_lists_as_fitted():
    assert NAME in builtin_names()
    rule = load_rule(NAME)
    assert not rule.quoted_from_paper and rule.citation is None
    assert set(rule.columns) <= set(DEFAULT_INDICATORS)  # all computable offline
    assert "SmolLM2-135M-Instruct" in rule.description
    assert "not quoted from the paper" in rule.description
    assert rule.provenance.experiments == "benchmarks/results/rule/experiments.jsonl"
    params = rule.score_params()
    assert set(params) == {n.indicator for n in rule.indicators}
    assert params["perplexity"]["model"] == "smollm2-135m-instruct"
    console = Console(record=True, width=400)
    console.print(builtin_table())
    lines = [line for line in console.export_text().splitlines() if line.startswith("│")]
    rows = {line.split("│")[1].strip(): line for line in lines}
    assert "fitted by InstructMine, not from the paper" in rows[NAME]
    assert f"{rule.provenance.n_experiments} experiments" in rows[NAME]
    assert "quoted from the paper" in rows["paper-final"] and "fitted" not in rows["paper-final"]


def test_builtin_proxy_rule_ranks_and_selects_a_fixture_pool(tmp_path):
    ids = _fixture_pool(tmp_path)
    raw = _raw()
    values = _score_folder(tmp_path / "scores", ids, raw)
    s = rank_pool(tmp_path / "scores", NAME, tmp_path / "ranked.parquet")
    assert s.records == len(ids) and s.unscored == 0 and s.param_mismatches == {}
    expected = raw["intercept"] + sum(
        t["coef"] * (values[t["aggregate"].rsplit(".", 1)[0]] - t["mean"]) / t["std"]
        for t in raw["terms"]
    )
    got = pq.read_table(tmp_path / "ranked.parquet").to_pydict()
    assert got["id"] == [ids[i] for i in np.argsort(expected, kind="stable")]
    np.testing.assert_allclose(got["predicted_log_loss"], np.sort(expected))
    top = run_select(
        tmp_path / "ranked.parquet",
        tmp_path / "top.parquet",
        SelectConfig(method="rule", top=5),
        pool=tmp_path / "pool.parquet",
    )
    assert sorted(read_pool(tmp_path / "top.parquet")["id"].to_pylist()) == sorted(got["id"][:5])
    assert top.selected == 5


def test_rank_reports_scores_made_with_other_parameters(tmp_path):
    ids = _fixture_pool(tmp_path, n=12)
    other = {"perplexity": {"max_length": 384, "batch_size": 2}, "ifd": {"batch_size": 2}}
    _score_folder(tmp_path / "scores", ids, _raw(), override=other)
    # batch_size changes the speed only; max_length changes the values
    assert param_mismatches(load_rule(NAME), tmp_path / "scores") == {
        "perplexity": {"max_length": [2048, 384]}
    }
    r = run_cli("rank", tmp_path / "scores", "--rule", NAME, "-o", tmp_path / "r.parquet")
    assert r.returncode == 0, r.stderr
    assert f"12 records ranked by rule '{NAME}'" in r.stdout
    assert "warning: perplexity was scored with other parameters" in r.stdout
    assert "max_length 2048 in the fit, 384 here" in r.stdout
    assert "ifd" not in r.stdout.split("warning")[1]


def test_score_params_give_scores_on_the_rules_scales(tmp_path):
    from instructmine.scoring import score_pool

    needs = indicator_needs(["mtld"])
    needs[0].params["threshold"] = 0.5  # a fit made with a non-default threshold
    rule = Rule(name="t", intercept=0.0, terms=[{"aggregate": "mtld.mean", "coef": 1.0}])
    rule = rule.model_copy(update={"indicators": needs})
    _fixture_pool(tmp_path, n=8)
    pool = tmp_path / "pool.parquet"
    score_pool(pool, tmp_path / "own", ["mtld"], params=rule.score_params(), progress=False)
    score_pool(pool, tmp_path / "default", ["mtld"], progress=False)
    assert param_mismatches(rule, tmp_path / "own") == {}
    assert param_mismatches(rule, tmp_path / "default") == {"mtld": {"threshold": [0.5, 0.72]}}
