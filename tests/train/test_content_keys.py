"""Caches are keyed by content: re-trained weights in the same folder are scored and evaluated
afresh; the base model's eval loss is computed once per (model, eval set) and reused; training's
eval loss and the eval suite's loss agree on the same set and model."""

from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq
import pytest

from instructmine.evaluate.run import EvalConfig, evaluate
from instructmine.io import ingest
from instructmine.schema import table_from_records
from instructmine.scoring import score_pool
from instructmine.train import TrainConfig, train
from shared_paths import FIXTURES


def write_pool(path, conversations):
    records = [{"id": f"r{i}", "source": "t", "messages": m} for i, m in enumerate(conversations)]
    pq.write_table(table_from_records(records), path)
    return path


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTMINE_CACHE", str(tmp_path / "imcache"))


@pytest.fixture(scope="module")
def eval_dir(tmp_path_factory):
    """A data folder in the shared layout holding the self-instruct fixture plus a record with
    two instances and padded whitespace (read differently by the two old parsers)."""
    root = tmp_path_factory.mktemp("evaldata")
    dest = root / "self_instruct_user_oriented" / "user_oriented_instructions.jsonl"
    dest.parent.mkdir()
    lines = (FIXTURES / "user_oriented_instructions.jsonl").read_text().splitlines()[:8]
    extra = {
        "id": "two_instances",
        "instruction": "  Add the numbers.  ",
        "instances": [
            {"input": "2 and 3", "output": "  The answer is 5.\n"},
            {"input": "4 and 4", "output": "The answer is 8.  "},
        ],
    }
    dest.write_text("\n".join([*lines, json.dumps(extra)]) + "\n")
    return root


def _full_run(model, pool, out, overwrite=False):
    cfg = TrainConfig(
        model=str(model),
        method="full",
        max_length=48,
        max_records=32,
        seed=0,
        sft={"learning_rate": 3e-3, "max_steps": 3},
    )
    return train(pool, out, cfg, progress=False, overwrite=overwrite)


def test_retrained_weights_are_rescored_and_reevaluated(
    tiny_llama_dir, train_pool, eval_dir, tmp_path
):
    """Re-training into the same folder (same file names and sizes) invalidates every cache:
    the score folder's stage manifest and part cache, and the eval results file."""
    other = write_pool(
        tmp_path / "other.parquet",
        [
            [{"role": "user", "content": f"Name a colour {i}."}, {"role": "assistant",
             "content": "Blue, red and green are colours. " * 3}]
            for i in range(40)
        ],
    )  # fmt: skip
    run = tmp_path / "run"
    scores, results = tmp_path / "scores", tmp_path / "eval.json"
    config = EvalConfig(data_dir=str(eval_dir), loss_sets=["self_instruct"])
    measured = []
    for pool, overwrite in ((train_pool, False), (other, True)):
        _full_run(tiny_llama_dir, pool, run, overwrite=overwrite)
        params = {"perplexity": {"model": str(run / "model"), "batch_size": 4}}
        summary = score_pool(train_pool, scores, ["perplexity"], params, progress=False)
        assert not summary.skipped
        ppl = pq.read_table(scores / "perplexity.parquet").column("perplexity").to_pylist()
        loss = evaluate(run, suites=["loss"], out=results, config=config)
        measured.append((ppl, loss["results"]["loss"]["self_instruct"]["loss"]))
    (ppl_a, loss_a), (ppl_b, loss_b) = measured
    assert ppl_a != ppl_b
    assert loss_a != pytest.approx(loss_b, rel=1e-6)
    # and unchanged weights are not recomputed
    params = {"perplexity": {"model": str(run / "model"), "batch_size": 4}}
    assert score_pool(train_pool, scores, ["perplexity"], params, progress=False).skipped


def test_train_eval_loss_equals_eval_suite_loss(tiny_llama_dir, train_pool, eval_dir, tmp_path):
    """`train --eval-data` (the eval file ingested as a pool) and `eval --suite loss` (the
    shared data folder) read the same conversations and report the same loss."""
    si = eval_dir / "self_instruct_user_oriented" / "user_oriented_instructions.jsonl"
    pool = tmp_path / "eval.parquet"
    ingest([si], pool)
    cfg = TrainConfig(
        model=str(tiny_llama_dir), eval_data=pool, max_records=16, sft={"max_steps": 1}
    )
    before = train(train_pool, tmp_path / "run", cfg, progress=False).eval_loss_before
    config = EvalConfig(data_dir=str(eval_dir), loss_sets=["self_instruct"])
    got = evaluate(tiny_llama_dir, suites=["loss"], config=config)["results"]["loss"]
    assert got["self_instruct"]["n_items"] == pq.read_metadata(pool).num_rows == 10
    assert got["self_instruct"]["loss"] == pytest.approx(before, rel=1e-6)


def test_base_eval_loss_is_computed_once_per_model_and_set(
    tiny_llama_dir, train_pool, eval_pool, tmp_path, make_conversation
):
    """A second run with the same base model and eval set reads the stored value (shown by
    tampering with it); another eval set, or re-saved different weights, compute afresh."""
    from instructmine.models import cache_dir

    def run(out, eval_data, model=tiny_llama_dir, seed=0):
        cfg = TrainConfig(
            model=str(model), eval_data=eval_data, seed=seed, max_records=16,
            sft={"max_steps": 1},
        )  # fmt: skip
        return train(train_pool, tmp_path / out, cfg, progress=False)

    first = run("a", eval_pool)
    [stored] = (cache_dir() / "eval_loss").glob("*.json")
    data = json.loads(stored.read_text())
    data["mean_loss"] = 123.0
    stored.write_text(json.dumps(data))
    assert run("b", eval_pool, seed=1).eval_loss_before == 123.0

    smaller = write_pool(
        tmp_path / "small.parquet", [make_conversation(i) for i in range(200, 204)]
    )
    assert run("c", smaller).eval_loss_before != 123.0

    # same folder name and file sizes, other weights: a new fingerprint, a new base loss
    import torch
    from transformers import AutoModelForCausalLM

    copy = tmp_path / "model_copy"
    shutil.copytree(tiny_llama_dir, copy)
    assert run("d", eval_pool, model=copy).eval_loss_before == 123.0  # same content
    model = AutoModelForCausalLM.from_pretrained(copy)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)
    model.save_pretrained(copy)
    fresh = run("e", eval_pool, model=copy).eval_loss_before
    assert fresh != 123.0 and fresh != pytest.approx(first.eval_loss_before)
