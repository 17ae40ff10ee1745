"""``instructmine train`` through a real subprocess on a tiny model."""

import json
import subprocess
import sys

import yaml


def _cli(*args, cwd=None):
    code = "from instructmine.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def test_train_cli_writes_a_run(tiny_llama_dir, train_pool, eval_pool, tmp_path):
    cfg = tmp_path / "train.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {"max_length": 48, "max_records": 16, "sft": {"max_steps": 2, "learning_rate": 1e-3}}
        )
    )
    out = tmp_path / "run"
    proc = _cli(
        "train",
        "--data", str(train_pool),
        "--model", str(tiny_llama_dir),
        "--out", str(out),
        "--config", str(cfg),
        "--eval-data", str(eval_pool),
        "--set", "lora.r=4",
        "--set", "sft.per_device_train_batch_size=4",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "eval loss after" in proc.stdout and "tokens/s" in proc.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 2 and len(metrics["loss_curve"]) == 2
    assert metrics["eval_loss_before"] is not None
    stored = yaml.safe_load((out / "config.yaml").read_text())
    assert stored["lora"]["r"] == 4 and stored["max_records"] == 16
    sft = json.loads((out / "sft_config.json").read_text())
    assert sft["per_device_train_batch_size"] == 4
    assert json.loads((out / "adapter" / "adapter_config.json").read_text())["r"] == 4


def test_train_cli_rejects_a_mistyped_setting(tiny_llama_dir, train_pool, tmp_path):
    proc = _cli(
        "train",
        "--data", str(train_pool),
        "--model", str(tiny_llama_dir),
        "--out", str(tmp_path / "run"),
        "--set", "sft.learning_rat=1e-4",
    )  # fmt: skip
    assert proc.returncode == 2
    assert "learning_rat" in proc.stderr and "learning_rate" in proc.stderr
    assert not (tmp_path / "run").exists()


def test_train_cli_qlora_error_is_clear(train_pool, tmp_path):
    import importlib.util

    import pytest
    import torch

    if torch.cuda.is_available() and importlib.util.find_spec("bitsandbytes"):
        pytest.skip("this machine can run QLoRA")
    proc = _cli(
        "train", "--data", str(train_pool), "--out", str(tmp_path / "q"), "--method", "qlora"
    )
    assert proc.returncode == 1
    assert "CUDA" in proc.stderr and "method=lora" in proc.stderr
    assert "Traceback" not in proc.stderr
