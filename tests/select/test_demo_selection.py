"""The demo's selection step with a tiny model: top by IFD vs random, both fine-tuned."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from rich.console import Console

from instructmine.demo_selection import render_arms, selection_step
from instructmine.io import ingest, read_pool
from instructmine.scoring import score_pool
from instructmine.scoring.files import files_from_dir
from instructmine.train import TrainConfig
from shared_paths import FIXTURES


def test_selection_step_trains_top_ifd_and_random(tmp_path, tiny_llama_dir, monkeypatch):
    monkeypatch.setenv("INSTRUCTMINE_CACHE", str(tmp_path / "imcache"))
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text())
    (tmp_path / "pool.json").write_text(json.dumps(recs[:24]))
    ingest([tmp_path / "pool.json"], tmp_path / "pool.parquet")
    (tmp_path / "eval.json").write_text(json.dumps(recs[24:30]))
    ingest([tmp_path / "eval.json"], tmp_path / "eval.parquet")
    tiny = {"model": str(tiny_llama_dir), "max_length": 64}
    score_pool(
        tmp_path / "pool.parquet",
        tmp_path / "scores",
        ["ifd"],
        params={"ifd": tiny},
        progress=False,
    )
    config = TrainConfig(
        model=str(tiny_llama_dir),
        max_length=512,
        eval_data=tmp_path / "eval.parquet",
        eval_max_records=4,
        lora={"r": 4},
        sft={"max_steps": 2, "per_device_train_batch_size": 4},
    )
    arms = selection_step(
        tmp_path, tmp_path / "pool.parquet", tmp_path / "scores", 6, config, Console(quiet=True)
    )
    ifd = pq.read_table(files_from_dir(tmp_path / "scores")["ifd"]).to_pydict()
    ranked = sorted((-v, i) for i, v in zip(ifd["id"], ifd["ifd"], strict=True) if v <= 1.0)
    top = sorted(read_pool(tmp_path / "select_ifd.parquet")["id"].to_pylist())
    assert top == sorted(i for _, i in ranked[: arms[0].n]) and arms[0].n == min(6, len(ranked))
    rand = read_pool(tmp_path / "select_random.parquet")["id"].to_pylist()
    assert len(rand) == arms[0].n and set(rand) != set(top)
    for arm, run in zip(arms, ("run_ifd", "run_random"), strict=True):
        metrics = json.loads((tmp_path / run / "metrics.json").read_text())
        assert (
            metrics["eval_loss_after"] == arm.eval_after
            and metrics["n_records"] == arm.trained == arm.n
        )
    console = Console(record=True, width=200)
    render_arms(arms, "tiny-llama", "the test pool", "eval.parquet", console)
    text = console.export_text()
    assert "tiny-llama" in text and "the test pool" in text
    assert f"{arms[0].eval_after:.4f}" in text and f"{arms[1].eval_after:.4f}" in text
