"""The two working steps of a training run: prepare (model + encoded data) and fit (trl).

:func:`prepare` loads the model and tokenizer and encodes the pool with the shared prompt code;
:func:`fit` builds trl's ``SFTTrainer`` (our subclass: LM head at labelled positions only) with
the run's settings and trains. ``train/run.py`` chains them with the stage contract and saves.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instructmine.train.config import TrainConfig
from instructmine.train.data import EncodedPool


@dataclass
class Prepared:
    """A loaded model and tokenizer and the pool encoded for them."""

    model: Any
    tokenizer: Any
    encoded: EncodedPool


@dataclass
class Fitted:
    """What training produced."""

    trainer: Any
    args: Any  # the trl.SFTConfig used
    loss_curve: list[float]
    steps: int
    train_seconds: float
    input_tokens: int  # real (non-padding) input tokens the trainer consumed


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


def peft_config(cfg: TrainConfig) -> Any:
    """The :class:`peft.LoraConfig` of a LoRA/QLoRA run (None for full fine-tuning)."""
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


def prepare(cfg: TrainConfig, pool_path: Path | str) -> Prepared:
    """Seed, load the model and tokenizer, and encode the pool's records for them."""
    from transformers import set_seed

    from instructmine.train.data import encode_conversations, read_conversations

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
    return Prepared(model, tok, encoded)


def fit(
    cfg: TrainConfig, prepared: Prepared, run_dir: Path, progress: bool, console: Any
) -> Fitted:
    """Train with trl's SFTTrainer (our subclass) and return the trainer and its figures."""
    import math

    import torch
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from trl import SFTConfig

    from instructmine.train.data import to_dataset
    from instructmine.train.progress import make_progress_callback
    from instructmine.train.trainer import make_trainer_class

    args = SFTConfig(**sft_settings(cfg, run_dir, torch.cuda.is_available()))
    with warnings.catch_warnings():
        # transformers 5 renamed gradient -> activation checkpointing; trl/peft still ask.
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*deprecated")
        trainer = make_trainer_class()(
            model=prepared.model,
            args=args,
            train_dataset=to_dataset(prepared.encoded),
            processing_class=prepared.tokenizer,
            peft_config=peft_config(cfg),
        )
        trainer.loss_chunk = cfg.loss_chunk
        trainer.micro_batch_tokens = cfg.micro_batch_tokens
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
        if progress:
            trainer.add_callback(make_progress_callback())
        out = trainer.train()
    curve = [float(h["loss"]) for h in trainer.state.log_history if "loss" in h]
    return Fitted(
        trainer=trainer,
        args=args,
        loss_curve=curve,
        steps=int(trainer.state.global_step),
        train_seconds=float(out.metrics.get("train_runtime", math.nan)),
        input_tokens=int(trainer.input_tokens),
    )
