"""Typed training configuration: what to fine-tune, how, and on which settings.

Unknown keys are errors everywhere (``extra="forbid"``). Trainer settings are not re-declared:
``sft`` is passed through to :class:`trl.SFTConfig`, and its keys are checked against that
class's fields (a mistyped key lists close matches). A config is built from defaults, a YAML
file and ``key=value`` overrides (:mod:`instructmine.overrides`) with dotted keys (``lora.r=8``,
``sft.learning_rate=1e-4``).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from instructmine.overrides import parse_overrides

# SFTConfig fields the trainer sets from the top-level config (or from the run directory);
# setting them under ``sft`` would silently disagree with the rest of the run.
MANAGED_SFT_KEYS = {
    "output_dir": "the run directory (train --out)",
    "seed": "seed",
    "data_seed": "seed",
    "max_length": "max_length",
    "packing": "packing",
    "padding_free": "padding_free",
    "train_sampling_strategy": "group_by_length",
    "group_by_length": "group_by_length",
    "assistant_only_loss": "(the loss mask comes from instructmine.prompting.encode)",
    "completion_only_loss": "(the loss mask comes from instructmine.prompting.encode)",
    "dataset_text_field": "(the trainer receives pre-tokenised data)",
}


# Settings that change memory and speed but not what is computed (up to float rounding and the
# order dropout masks are drawn in): left out of a run's stage fingerprint.
PERFORMANCE_KEYS = frozenset({"loss_chunk", "micro_batch_tokens"})


class LoraSettings(BaseModel):
    """LoRA adapter settings (also used by QLoRA); passed to :class:`peft.LoraConfig`."""

    model_config = ConfigDict(extra="forbid")

    r: int = Field(16, gt=0, description="adapter rank")
    alpha: float = Field(32, gt=0, description="scaling numerator (lora_alpha)")
    dropout: float = Field(0.05, ge=0, lt=1, description="dropout on the adapter input")
    target_modules: list[str] | Literal["all-linear"] = Field(
        "all-linear", description="module names to adapt, or 'all-linear'"
    )


class TrainConfig(BaseModel):
    """Everything a fine-tuning run needs besides the data and the output folder."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("smollm2-135m-instruct", description="offline alias, local folder or hub id")
    method: Literal["lora", "qlora", "full"] = "lora"
    lora: LoraSettings = Field(default_factory=LoraSettings)
    template: Literal["auto", "chat", "plain"] = Field(
        "auto", description="the tokenizer's chat template (auto, when it has one) or plain"
    )
    train_on: Literal["all_assistant", "last_assistant"] = Field(
        "all_assistant", description="loss on every assistant turn, or only the last one"
    )
    max_length: int = Field(512, gt=0, description="tokens per example (longer ones truncated)")
    padding_free: bool = Field(
        False,
        description="flatten each batch into one row with per-example positions "
        "(best with FlashAttention; on CPU length grouping is faster)",
    )
    packing: bool = Field(False, description="pack examples into rows of max_length (trl BFD)")
    group_by_length: bool = Field(True, description="batch examples of similar length together")
    seed: int = 42
    max_records: int | None = Field(
        None, gt=0, description="train on the first N records of the pool only"
    )
    eval_data: Path | None = Field(
        None, description="held-out pool (Parquet) scored before and after training"
    )
    eval_max_records: int | None = Field(None, gt=0)
    eval_batch_size: int = Field(8, gt=0)
    eval_max_length: int = Field(1024, gt=0)
    loss_chunk: int = Field(
        512,
        ge=0,
        description="positions per LM-head + cross-entropy chunk (the batch's logits never "
        "exist at once); 0 = the full logits of the batch (the path before issue 30)",
    )
    micro_batch_tokens: int = Field(
        512,
        ge=0,
        description="train each batch as micro-batches of at most this many padded tokens "
        "(gradients accumulate; same loss): peak memory scales with it; 0 = whole batch",
    )
    sft: dict[str, Any] = Field(
        default_factory=dict, description="settings passed through to trl.SFTConfig"
    )

    @field_validator("sft")
    @classmethod
    def _check_sft(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_sft_keys(value)
        return value


def sft_field_names() -> set[str]:
    """Names of :class:`trl.SFTConfig`'s fields (imports trl)."""
    import dataclasses

    from trl import SFTConfig

    return {f.name for f in dataclasses.fields(SFTConfig) if f.init}


def check_sft_keys(sft: dict[str, Any]) -> None:
    """Reject keys that are not SFTConfig fields, or that the top-level config manages."""
    if not sft:
        return
    for key in sft:
        if key in MANAGED_SFT_KEYS:
            raise ValueError(
                f"sft.{key} is set by the trainer; use the top-level setting "
                f"{MANAGED_SFT_KEYS[key]} instead"
            )
    names = sft_field_names()
    unknown = [k for k in sft if k not in names]
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, sorted(names), n=3, cutoff=0.6)
            hints.append(f"sft.{k}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise ValueError(f"unknown trl.SFTConfig settings: {'; '.join(hints)}")


def load_config(
    path: Path | str | None = None,
    overrides: list[str] | None = None,
    **fields: Any,
) -> TrainConfig:
    """Build a :class:`TrainConfig` from a YAML file, explicit fields and ``--set`` overrides.

    Precedence, lowest to highest: defaults, the file, ``fields`` (e.g. ``--model``), overrides.
    """
    import yaml

    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as err:
            raise ValueError(f"{path}: cannot read training config ({err})") from err
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: a training config must be a mapping of settings")
        data = loaded
    data.update({k: v for k, v in fields.items() if v is not None})
    data = parse_overrides(overrides or [], option="--set", base=data)
    return TrainConfig.model_validate(data)
