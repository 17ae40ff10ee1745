"""One fine-tuning run: pool in, run directory out.

The run directory holds::

    config.yaml        the resolved TrainConfig (what was asked)
    sft_config.json    every trl.SFTConfig setting the trainer actually used
    manifest.json      pool path + SHA-256, ids trained on, dropped/truncated records
    metrics.json       loss curve, eval loss before/after, tokens/s, wall time, provenance
    adapter/ | model/  the LoRA adapter (+ tokenizer), or the fully fine-tuned model

``metrics.json`` is written last: its presence marks a finished run. Re-running the same
config on the same pool into a finished run directory returns the stored result; a
different config or pool there is an error unless ``overwrite`` is set.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from instructmine.train.config import TrainConfig

METRICS = "metrics.json"


class RunDirError(RuntimeError):
    """The output folder holds a different run."""


@dataclass
class RunResult:
    """What a finished run produced (the contents of its ``metrics.json``)."""

    run_dir: str
    model: str
    provenance: str
    method: str
    n_records: int
    steps: int
    loss_curve: list[float]
    final_loss: float
    tokens: int
    tokens_per_second: float
    train_seconds: float
    wall_seconds: float
    eval_loss_before: float | None = None
    eval_loss_after: float | None = None
    eval: dict[str, Any] = field(default_factory=dict)
    pool: str = ""
    pool_sha256: str = ""

    @property
    def weights_dir(self) -> Path:
        """The adapter folder (LoRA/QLoRA) or the model folder (full fine-tuning)."""
        sub = "model" if self.method == "full" else "adapter"
        return Path(self.run_dir) / sub


def load_run(run_dir: Path | str) -> RunResult:
    """Read a finished run's result from its directory."""
    path = Path(run_dir) / METRICS
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: not a finished training run (no {METRICS})")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["run_dir"] = str(Path(run_dir).resolve())
    return RunResult(**data)


def check_qlora_available() -> None:
    """Raise a clear error when QLoRA cannot run here (it needs CUDA and bitsandbytes)."""
    import importlib.util

    import torch

    missing = []
    if not torch.cuda.is_available():
        missing.append("a CUDA GPU (none is visible to torch here)")
    if importlib.util.find_spec("bitsandbytes") is None:
        missing.append("the bitsandbytes package (pip install bitsandbytes)")
    if missing:
        raise RuntimeError(
            "method=qlora quantises the base model to 4 bits with bitsandbytes, which needs "
            + " and ".join(missing)
            + ". Use method=lora on this machine (the same adapter on an unquantised base)."
        )


def sft_settings(cfg: TrainConfig, run_dir: Path, cuda: bool) -> dict[str, Any]:
    """The trl.SFTConfig keyword arguments for a run: our defaults, then ``cfg.sft``."""
    settings: dict[str, Any] = {
        "per_device_train_batch_size": 8,
        "num_train_epochs": 1,
        "learning_rate": 2e-5 if cfg.method == "full" else 2e-4,
        "logging_steps": 1,
        "save_strategy": "no",
        "eval_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
        "dataloader_pin_memory": cuda,
    }
    if not cuda:
        # trl's defaults (bf16 + gradient checkpointing) run ~25x slower on a CPU (DESIGN §5).
        settings.update(bf16=False, fp16=False, use_cpu=True)
        if not {"gradient_checkpointing", "activation_checkpointing"} & set(cfg.sft):
            settings["activation_checkpointing"] = False
    settings.update(cfg.sft)
    settings.update(
        output_dir=str(run_dir / "trainer"),
        seed=cfg.seed,
        data_seed=cfg.seed,
        # Examples arrive tokenised and truncated to cfg.max_length; trl re-truncates only
        # when packing (where max_length is the row length).
        max_length=cfg.max_length if cfg.packing else None,
        packing=cfg.packing,
        padding_free=cfg.padding_free or cfg.packing,
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
    )
    return settings


def _peft_config(cfg: TrainConfig) -> Any:
    if cfg.method == "full":
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=cfg.lora.target_modules,
        task_type="CAUSAL_LM",
    )


def _load_model(cfg: TrainConfig) -> tuple[Any, Any]:
    from instructmine.models import load_causal_lm

    if cfg.method != "qlora":
        return load_causal_lm(cfg.model)
    import torch
    from peft import prepare_model_for_kbit_training
    from transformers import BitsAndBytesConfig

    quant = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )
    model, tok = load_causal_lm(
        cfg.model, quantization_config=quant, dtype=torch.bfloat16, device_map={"": 0}
    )
    gc = bool(cfg.sft.get("gradient_checkpointing", True))
    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=gc), tok


def _fingerprint(cfg: TrainConfig, pool_sha: str) -> dict[str, Any]:
    return {"config": cfg.model_dump(mode="json"), "pool_sha256": pool_sha}


def _prepare_run_dir(run_dir: Path, cfg: TrainConfig, pool_sha: str, overwrite: bool) -> bool:
    """Return True when ``run_dir`` already holds this exact finished run."""
    if (run_dir / METRICS).is_file() and not overwrite:
        try:
            stored = json.loads((run_dir / "fingerprint.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = None
        if stored == _fingerprint(cfg, pool_sha):
            return True
        raise RunDirError(
            f"{run_dir} holds a finished run with a different config or pool; "
            "choose another output folder or pass overwrite (--overwrite)"
        )
    for name in ("adapter", "model", "trainer", METRICS):
        target = run_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    run_dir.mkdir(parents=True, exist_ok=True)
    return False


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def train(
    pool_path: Path | str,
    out_dir: Path | str,
    config: TrainConfig | None = None,
    progress: bool = True,
    overwrite: bool = False,
    console: Any = None,
) -> RunResult:
    """Fine-tune ``config.model`` on the pool at ``pool_path``; write the run to ``out_dir``.

    Raises before loading anything when QLoRA is asked for without CUDA + bitsandbytes.
    """
    import yaml

    from instructmine.io import pool_rows
    from instructmine.models import describe
    from instructmine.train.data import (
        encode_conversations,
        file_sha256,
        read_conversations,
        to_dataset,
        write_manifest,
    )
    from instructmine.train.eval_loss import eval_loss

    cfg = config or TrainConfig()
    t_wall = time.perf_counter()
    pool_rows(pool_path)  # fails fast with a clear message on a missing / non-pool file
    if cfg.eval_data is not None:
        pool_rows(cfg.eval_data)
    if cfg.method == "qlora":
        check_qlora_available()
    run_dir = Path(out_dir)
    pool_sha = file_sha256(pool_path)
    if _prepare_run_dir(run_dir, cfg, pool_sha, overwrite):
        return load_run(run_dir)

    import torch
    from transformers import set_seed
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from trl import SFTConfig

    from instructmine.train.progress import make_progress_callback
    from instructmine.train.trainer import make_trainer_class

    set_seed(cfg.seed)
    model, tok = _load_model(cfg)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    encoded = encode_conversations(
        tok,
        read_conversations(pool_path, cfg.max_records),
        cfg.template,
        cfg.max_length,
        cfg.train_on,
        source=str(pool_path),
    )
    if not encoded.records:
        raise ValueError(f"{pool_path}: no record has an assistant token to train on")
    manifest = write_manifest(run_dir / "manifest.json", pool_path, encoded)

    def _eval(current: Any) -> Any:
        if cfg.eval_data is None:
            return None
        return eval_loss(
            current,
            tok,
            cfg.eval_data,
            template=cfg.template,
            max_length=cfg.eval_max_length,
            batch_size=cfg.eval_batch_size,
            max_records=cfg.eval_max_records,
        )

    before = _eval(model)

    cuda = torch.cuda.is_available()
    settings = sft_settings(cfg, run_dir, cuda)
    args = SFTConfig(**settings)
    with warnings.catch_warnings():
        # transformers 5 renamed gradient -> activation checkpointing; trl/peft still ask.
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*deprecated")
        trainer = make_trainer_class()(
            model=model,
            args=args,
            train_dataset=to_dataset(encoded),
            processing_class=tok,
            peft_config=_peft_config(cfg),
        )
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
        if progress:
            trainer.add_callback(make_progress_callback(console))
        out = trainer.train()
    after = _eval(trainer.model)

    weights = run_dir / ("model" if cfg.method == "full" else "adapter")
    trainer.model.save_pretrained(weights)
    tok.save_pretrained(weights)
    shutil.rmtree(run_dir / "trainer", ignore_errors=True)
    (run_dir / "config.yaml").write_text(
        yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False), encoding="utf-8"
    )
    _write_json(run_dir / "sft_config.json", json.loads(args.to_json_string()))
    _write_json(run_dir / "fingerprint.json", _fingerprint(cfg, pool_sha))

    curve = [float(h["loss"]) for h in trainer.state.log_history if "loss" in h]
    runtime = float(out.metrics.get("train_runtime", math.nan))
    tokens = int(trainer._total_train_tokens)
    result = RunResult(
        run_dir=str(run_dir.resolve()),
        model=cfg.model,
        provenance=describe(cfg.model),
        method=cfg.method,
        n_records=manifest["n_records"],
        steps=int(trainer.state.global_step),
        loss_curve=curve,
        final_loss=curve[-1] if curve else math.nan,
        tokens=tokens,
        tokens_per_second=tokens / runtime if runtime > 0 else math.nan,
        train_seconds=runtime,
        wall_seconds=time.perf_counter() - t_wall,
        eval_loss_before=before.mean_loss if before else None,
        eval_loss_after=after.mean_loss if after else None,
        eval=(
            {
                "data": str(Path(cfg.eval_data).resolve()),
                "before": before.to_dict(),
                "after": after.to_dict(),
            }
            if before and after
            else {}
        ),
        pool=manifest["pool"],
        pool_sha256=pool_sha,
    )
    _write_json(run_dir / METRICS, asdict(result))
    return result
