"""``instructmine fit`` → ``rank`` → ``rules`` as real subprocesses on a synthetic table."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from helpers_rule import draw, write

from shared_paths import run_cli

cli = run_cli


def test_fit_then_rank_then_rules(tmp_path):
    rows, _ = draw(30, {"reward.mean": -0.05, "mtld.mean": 0.004}, seed=3)
    table = write(tmp_path / "experiments.jsonl", rows)
    rule_path = tmp_path / "rule.json"
    r = cli(
        "fit", table, "-o", rule_path, "--n-boot", 50, "--name", "synthetic",
        "--description", "Drawn from known coefficients.",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "reward.mean" in r.stdout and "mtld.mean" in r.stdout
    rule = json.loads(rule_path.read_text())
    assert rule["description"].startswith("Drawn from known coefficients. Fitted on ")
    kept = {t["aggregate"] for t in rule["terms"]}
    assert {"reward.mean", "mtld.mean"} <= kept

    rng = np.random.default_rng(0)
    n = 500
    scores = pa.table(
        {
            "id": [f"r{i}" for i in range(n)],
            "reward": rng.normal(0, 1.5, n),
            "mtld": rng.normal(60, 10, n),
            "perplexity": rng.normal(12, 3, n),
            "output_length": rng.normal(150, 40, n),
        }
    )
    pq.write_table(scores, tmp_path / "scores.parquet")
    ranked = tmp_path / "ranked.parquet"
    r = cli("rank", tmp_path / "scores.parquet", "--rule", rule_path, "-o", ranked)
    assert r.returncode == 0, r.stderr
    got = pq.read_table(ranked).to_pydict()
    assert len(got["id"]) == n
    assert got["predicted_log_loss"] == sorted(got["predicted_log_loss"])
    # the best-ranked record has a higher reward than the worst one (reward lowers the loss)
    reward = dict(zip(scores["id"].to_pylist(), scores["reward"].to_pylist(), strict=True))
    assert np.mean([reward[i] for i in got["id"][:50]]) > np.mean(
        [reward[i] for i in got["id"][-50:]]
    )

    r = cli("rules")
    assert r.returncode == 0, r.stderr
    assert "paper-final" in r.stdout and "quoted from the paper" in r.stdout


def test_rank_names_the_missing_columns(tmp_path):
    pq.write_table(pa.table({"id": ["a", "b"], "mtld": [1.0, 2.0]}), tmp_path / "s.parquet")
    r = cli("rank", tmp_path / "s.parquet", "--rule", "paper-final", "-o", tmp_path / "r.parquet")
    assert r.returncode != 0
    assert "reward" in r.stderr or "reward" in r.stdout
    assert not (tmp_path / "r.parquet").exists()
