"""Supervised fine-tuning (LoRA, QLoRA or full) through trl and peft, and eval loss.

Public API:

- :func:`train` (pool -> run directory, returns :class:`RunResult`), :func:`load_run`;
- :class:`TrainConfig`, :func:`load_config` (YAML file + ``key=value`` overrides);
- :func:`eval_loss` (token-weighted mean response loss, :class:`EvalLoss`) and
  :func:`load_for_eval` (base model, alias or run directory -> model, tokenizer, provenance).

Importing this package is light: torch, transformers, trl and peft load inside the functions.
"""

from instructmine.train.config import LoraSettings, TrainConfig, load_config
from instructmine.train.eval_loss import EvalLoss, eval_loss, load_for_eval
from instructmine.train.run import RunDirError, RunResult, check_qlora_available, load_run, train

__all__ = [
    "EvalLoss",
    "LoraSettings",
    "RunDirError",
    "RunResult",
    "TrainConfig",
    "check_qlora_available",
    "eval_loss",
    "load_config",
    "load_for_eval",
    "load_run",
    "train",
]
