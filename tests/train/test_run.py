"""End-to-end runs on a tiny llama: loss falls, runs save/reload exactly, seeds reproduce."""

import json

import pytest
import torch
import yaml

from instructmine.models import load_for_eval
from instructmine.train import RunDirError, TrainConfig, eval_loss, load_run, train

FAST = {"learning_rate": 3e-3, "per_device_train_batch_size": 8, "num_train_epochs": 3}


@pytest.fixture(scope="module")
def lora_run(tiny_llama_dir, train_pool, eval_pool, tmp_path_factory):
    cfg = TrainConfig(
        model=str(tiny_llama_dir),
        max_length=64,
        eval_data=eval_pool,
        max_records=48,
        lora={"r": 8, "alpha": 16, "dropout": 0.0},
        sft=FAST,
    )
    out = tmp_path_factory.mktemp("lora") / "run"
    return cfg, train(train_pool, out, cfg, progress=False)


def test_loss_falls_and_eval_loss_improves(lora_run):
    _, result = lora_run
    curve = result.loss_curve
    assert result.steps == len(curve) == 18  # 48 records / 8 per step * 3 epochs
    assert sum(curve[-3:]) / 3 < sum(curve[:3]) / 3 - 0.2
    assert result.eval_loss_after < result.eval_loss_before - 0.2
    assert result.tokens > 0 and result.tokens_per_second > 0


def test_run_directory_contents(lora_run, train_pool, tiny_llama_dir):
    cfg, result = lora_run
    run = result.weights_dir.parent
    assert (run / "adapter" / "adapter_config.json").is_file()
    assert (run / "adapter" / "tokenizer_config.json").is_file()
    assert TrainConfig.model_validate(yaml.safe_load((run / "config.yaml").read_text())) == cfg
    sft = json.loads((run / "sft_config.json").read_text())
    assert sft["learning_rate"] == FAST["learning_rate"] and sft["bf16"] is False
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["ids"] == [f"r{i}" for i in range(48)]
    assert manifest["pool"] == str(train_pool.resolve())
    assert load_run(run) == result
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["loss_curve"] == result.loss_curve
    assert metrics["provenance"] == str(tiny_llama_dir)
    assert len(metrics["eval"]["after"]["per_example"]) == 16
    assert not (run / "trainer").exists()


def test_saved_adapter_reloads_to_the_same_model(lora_run, eval_pool, tiny_llama_dir):
    """The merged reload reproduces the eval loss measured on the in-memory trained model,
    and its logits equal the unmerged adapter's (and differ from the base model's)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    cfg, result = lora_run
    run = result.weights_dir.parent
    model, tok, provenance = load_for_eval(run)
    assert str(tiny_llama_dir) in provenance and "48 records" in provenance
    reloaded = eval_loss(model, tok, eval_pool, max_length=cfg.eval_max_length)
    assert reloaded.mean_loss == pytest.approx(result.eval_loss_after, rel=1e-5)

    ids = torch.tensor([tok("What is 5 plus 5?")["input_ids"]])
    base = AutoModelForCausalLM.from_pretrained(tiny_llama_dir).eval()
    with torch.no_grad():
        base_logits = base(ids).logits
        unmerged = PeftModel.from_pretrained(base, str(run / "adapter")).eval()
        adapter_logits = unmerged(ids).logits
        merged_logits = model(ids).logits
    torch.testing.assert_close(merged_logits, adapter_logits, rtol=1e-4, atol=1e-4)
    assert (merged_logits - base_logits).abs().max() > 1e-3


def test_finished_run_is_reused_and_a_different_one_refused(lora_run, train_pool, monkeypatch):
    import instructmine.models as models

    cfg, result = lora_run
    run = result.weights_dir.parent

    def no_load(*a, **k):
        raise AssertionError("a finished run must not load a model")

    monkeypatch.setattr(models, "load_causal_lm", no_load)
    assert train(train_pool, run, cfg, progress=False) == result
    with pytest.raises(RunDirError, match="different config"):
        train(train_pool, run, cfg.model_copy(update={"seed": 7}), progress=False)


def _short_run(model_dir, pool, out, seed, **kw):
    cfg = TrainConfig(
        model=str(model_dir),
        max_length=48,
        seed=seed,
        max_records=32,
        sft={"learning_rate": 3e-3, "max_steps": 4},
        **kw,
    )
    return train(pool, out, cfg, progress=False)


def test_same_seed_same_loss_curve(tiny_llama_dir, train_pool, tmp_path):
    a = _short_run(tiny_llama_dir, train_pool, tmp_path / "a", seed=1)
    b = _short_run(tiny_llama_dir, train_pool, tmp_path / "b", seed=1)
    c = _short_run(tiny_llama_dir, train_pool, tmp_path / "c", seed=2)
    assert len(a.loss_curve) == 4
    assert a.loss_curve == b.loss_curve
    assert a.loss_curve != c.loss_curve


def test_full_fine_tune_with_packing(tiny_llama_dir, train_pool, eval_pool, tmp_path):
    result = _short_run(
        tiny_llama_dir, train_pool, tmp_path / "full", seed=0, method="full", packing=True
    )
    assert (tmp_path / "full" / "model" / "config.json").is_file()
    assert not (tmp_path / "full" / "adapter").exists()
    # Packing fills rows up to max_length: fewer, fuller rows than records per step.
    assert result.steps == 4 and result.tokens > 4 * 8 * 20
    model, tok, provenance = load_for_eval(tmp_path / "full")
    assert "fully fine-tuned" in provenance
    assert eval_loss(model, tok, eval_pool).n_examples == 16


def test_qlora_without_cuda_fails_before_loading(train_pool, tmp_path, monkeypatch):
    import importlib.util

    if torch.cuda.is_available() and importlib.util.find_spec("bitsandbytes"):
        pytest.skip("this machine can run QLoRA")
    import instructmine.models as models

    def no_load(*a, **k):
        raise AssertionError("QLoRA must fail before any model is loaded")

    monkeypatch.setattr(models, "load_causal_lm", no_load)
    cfg = TrainConfig(model="smollm2-135m-instruct", method="qlora")
    with pytest.raises(RuntimeError, match="qlora.*(CUDA|bitsandbytes).*method=lora"):
        train(train_pool, tmp_path / "q", cfg, progress=False)
    assert not (tmp_path / "q").exists()


def test_missing_pool_is_a_clear_error(tmp_path, tiny_llama_dir):
    from instructmine.io import PoolError

    with pytest.raises(PoolError, match="no such pool file"):
        train(tmp_path / "nope.parquet", tmp_path / "r", TrainConfig(model=str(tiny_llama_dir)))


def test_interrupted_run_is_one_thing_everywhere(tiny_llama_dir, train_pool, tmp_path):
    """A run folder whose last file (metrics.json with its stage block) is missing - a crash
    after the weights were saved - is unfinished for training, evaluation and indicators alike:
    train redoes it without asking for --overwrite, and nothing loads its weights meanwhile."""
    from instructmine.indicators.state import RunState
    from instructmine.run_dir import RunDir

    out = tmp_path / "run"
    first = _short_run(tiny_llama_dir, train_pool, out, seed=3)
    (out / "metrics.json").unlink()
    assert (out / "adapter").is_dir() and not RunDir(out).is_finished()
    with pytest.raises(FileNotFoundError, match="not a finished training run"):
        load_for_eval(out)
    with pytest.raises(FileNotFoundError, match="not a finished training run"):
        RunState().causal_lm(str(out))
    again = _short_run(tiny_llama_dir, train_pool, out, seed=3)
    assert again.loss_curve == first.loss_curve and RunDir(out).is_finished()
