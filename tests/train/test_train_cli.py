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


def test_train_json_is_all_of_stdout_and_third_party_noise_needs_verbose(
    tiny_llama_dir, train_pool, tmp_path
):
    from shared_paths import run_cli

    args = ["train", "--data", train_pool, "--model", tiny_llama_dir, "--json"]
    args += ["--set", "max_records=8", "--set", "max_length=48", "--set", "sft.max_steps=1"]
    quiet = run_cli(*args, "--out", tmp_path / "a")
    assert quiet.returncode == 0, quiet.stderr
    doc = json.loads(quiet.stdout)  # the whole of stdout is the JSON summary
    assert doc["steps"] == 1 and doc["n_records"] == 8 and doc["method"] == "lora"
    noise = ("Loading weights", "Warning:", "warnings.warn", "errors.pydantic.dev", "it/s]")
    assert not [n for n in noise if n in quiet.stderr], quiet.stderr
    loud = run_cli("-v", *args, "--out", tmp_path / "b")
    assert loud.returncode == 0, loud.stderr
    assert json.loads(loud.stdout)["steps"] == 1
    assert [n for n in noise if n in loud.stderr], loud.stderr


def test_ctrl_c_during_train_is_one_line_and_exit_130(tiny_llama_dir, train_pool, tmp_path):
    import os
    import signal
    import time

    from shared_paths import REPO, default_sigint

    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from instructmine.cli import main; main()", "train"]
        + ["--data", str(train_pool), "--model", str(tiny_llama_dir), "--out", str(out)]
        + ["--set", "sft.max_steps=100000", "--set", "max_length=48"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO / "src"), COLUMNS="200"),
        preexec_fn=default_sigint,
    )
    deadline = time.monotonic() + 300
    while not list(tmp_path.glob(".tmp-*-run/trainer")):  # training has begun (beside OUT)
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted:") and "not kept" in last and "re-run" in last
    assert not out.exists()  # no empty run folder, no trainer/ folder
    assert not list(tmp_path.glob(".tmp-*"))
