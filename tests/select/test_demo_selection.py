"""The demo's selection step with a tiny model: top by the built-in smollm2-proxy rule vs
random, both fine-tuned, losses rendered with the rule's provenance."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console

from instructmine.demo_selection import DEMO_RULE, render_arms, selection_step
from instructmine.io import ingest, read_pool
from instructmine.rule.rules import load_rule
from instructmine.train import TrainConfig
from shared_paths import FIXTURES


def _scores(path, ids, seed=0):
    """A score file with every column the demo rule reads, values near its fit's means."""
    rule = load_rule(DEMO_RULE)
    rng = np.random.default_rng(seed)
    cols = {"id": ids}
    for t in rule.terms:
        cols[t.column] = rng.normal(t.mean, t.std, len(ids))
    pq.write_table(pa.table(cols), path)
    pred = rule.intercept + sum(t.coef * (cols[t.column] - t.mean) / t.std for t in rule.terms)
    return [ids[i] for i in np.argsort(pred, kind="stable")]


def test_selection_step_trains_top_by_rule_and_random(tmp_path, tiny_llama_dir, monkeypatch):
    monkeypatch.setenv("INSTRUCTMINE_CACHE", str(tmp_path / "imcache"))
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text())
    (tmp_path / "pool.json").write_text(json.dumps(recs[:24]))
    ingest([tmp_path / "pool.json"], tmp_path / "pool.parquet")
    (tmp_path / "eval.json").write_text(json.dumps(recs[24:30]))
    ingest([tmp_path / "eval.json"], tmp_path / "eval.parquet")
    ids = read_pool(tmp_path / "pool.parquet")["id"].to_pylist()
    order = _scores(tmp_path / "scores.parquet", ids)
    config = TrainConfig(
        model=str(tiny_llama_dir),
        max_length=512,
        eval_data=tmp_path / "eval.parquet",
        eval_max_records=4,
        lora={"r": 4},
        sft={"max_steps": 2, "per_device_train_batch_size": 4},
    )
    arms = selection_step(
        tmp_path,
        tmp_path / "pool.parquet",
        tmp_path / "scores.parquet",
        6,
        config,
        Console(quiet=True),
    )
    assert arms[0].name == f"top by rule {DEMO_RULE}" and arms[0].n == 6
    assert pq.read_table(tmp_path / "ranked_rule.parquet")["id"].to_pylist() == order
    top = sorted(read_pool(tmp_path / "select_rule.parquet")["id"].to_pylist())
    assert top == sorted(order[:6])
    rand = read_pool(tmp_path / "select_random.parquet")["id"].to_pylist()
    assert len(rand) == 6 and set(rand) != set(top)
    for arm, run in zip(arms, ("run_rule", "run_random"), strict=True):
        metrics = json.loads((tmp_path / run / "metrics.json").read_text())
        assert (
            metrics["eval_loss_after"] == arm.eval_after
            and metrics["n_records"] == arm.trained == arm.n
        )
    console = Console(record=True, width=400)
    render_arms(arms, "tiny-llama", "the test pool", "eval.parquet", console)
    text = console.export_text()
    assert "tiny-llama" in text and "the test pool" in text
    assert f"{arms[0].eval_after:.4f}" in text and f"{arms[1].eval_after:.4f}" in text
    n_exp = load_rule(DEMO_RULE).provenance.n_experiments
    assert f"Rule {DEMO_RULE}: fitted by InstructMine" in text and f"{n_exp} experiments" in text
    assert "SmolLM2-135M-Instruct" in text and "not quoted from the paper" in text
    assert "IFD" not in text
