"""Supervised fine-tuning (LoRA, QLoRA or full) through trl and peft, and eval loss.

Public API:

- :func:`train` (pool -> run folder, returns :class:`RunResult`), :func:`load_run`
  (what a run folder is, and whether it finished: :class:`instructmine.run_dir.RunDir`);
- :class:`TrainConfig`, :func:`load_config` (YAML file + ``key=value`` overrides);
- :func:`eval_loss` (token-weighted mean response loss, :class:`EvalLoss`),
  :func:`base_eval_loss` (the same for an untrained base model, computed once per model and
  eval set and reused). Loading a finished run for inference:
  :func:`instructmine.models.load_for_eval`.

Importing this package is light: torch, transformers, trl and peft load inside the functions.
"""

from instructmine.train.config import LoraSettings, TrainConfig, load_config
from instructmine.train.eval_loss import EvalLoss, base_eval_loss, eval_loss
from instructmine.train.fit import check_qlora_available
from instructmine.train.run import RunDirError, RunResult, load_run, train

__all__ = [
    "EvalLoss",
    "LoraSettings",
    "RunDirError",
    "RunResult",
    "TrainConfig",
    "base_eval_loss",
    "check_qlora_available",
    "eval_loss",
    "load_config",
    "load_run",
    "train",
]
