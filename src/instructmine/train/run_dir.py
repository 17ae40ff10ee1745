"""What a training run folder is: the one module that owns its layout and its "finished" test.

A run folder holds::

    config.yaml        the resolved TrainConfig (what was asked)
    sft_config.json    every trl.SFTConfig setting the trainer actually used
    manifest.json      pool path + SHA-256, ids trained on, dropped/truncated records
    adapter/ | model/  the LoRA adapter (+ tokenizer), or the fully fine-tuned model
    metrics.json       loss curve, eval loss before/after, tokens/s, wall time, provenance,
                       and the stage block (instructmine.stage): written last

A run is *finished* when ``metrics.json`` holds a stage block and the weights folder its
``method`` names exists. A run killed before that point (even after the weights were saved) is
unfinished everywhere: training redoes it, evaluation and scoring refuse it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

METRICS = "metrics.json"
CONFIG = "config.yaml"
MANIFEST = "manifest.json"
SFT_CONFIG = "sft_config.json"
WORK = ("adapter", "model", "trainer", METRICS, CONFIG, MANIFEST, SFT_CONFIG, "fingerprint.json")


class RunDir:
    """A training run folder (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _metrics(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.path / METRICS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    @property
    def metrics_path(self) -> Path:
        """The file written last (its presence, with a stage block, marks a finished run)."""
        return self.path / METRICS

    def weights_dir(self, method: str | None = None) -> Path:
        """The adapter folder (LoRA/QLoRA) or the model folder (full fine-tuning)."""
        method = method or (self._metrics() or {}).get("method", "lora")
        return self.path / ("model" if method == "full" else "adapter")

    def is_finished(self) -> bool:
        """True when training completed: metrics with a stage block, and the weights."""
        data = self._metrics()
        return bool(data and "stage" in data and self.weights_dir(data.get("method")).is_dir())

    def config(self) -> dict[str, Any]:
        """The run's resolved training config."""
        import yaml

        return yaml.safe_load((self.path / CONFIG).read_text(encoding="utf-8"))

    def manifest(self) -> dict[str, Any]:
        """The run's data manifest (pool, hash, ids trained on)."""
        return json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))

    def fingerprint(self) -> str:
        """Content identity of the trained model: the base model's and the weights'."""
        from instructmine.fingerprint import digest_json, folder_fingerprint, model_fingerprint

        cfg = self.config()
        weights = self.weights_dir(cfg.get("method"))
        base = model_fingerprint(cfg["model"]) if cfg.get("method") != "full" else None
        return "run:" + digest_json([base, cfg.get("method"), folder_fingerprint(weights)])

    def clear(self) -> None:
        """Remove everything a run writes, so a new run starts clean."""
        for name in WORK:
            target = self.path / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()

    def require_finished(self) -> None:
        """Raise ``FileNotFoundError`` saying why this is not a usable run folder."""
        if not self.is_finished():
            raise FileNotFoundError(
                f"{self.path}: not a finished training run (no {METRICS} with a stage block, or "
                "no adapter/ or model/ folder); the run may have been interrupted: train again"
            )


def looks_like_run(path: str | os.PathLike[str]) -> bool:
    """True for a folder with a run's config (finished or not)."""
    return (Path(path) / CONFIG).is_file()


def load_causal_for_inference(model_or_run: str | os.PathLike[str]) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of an alias, folder or hub id, or of a finished run folder (its
    base with the LoRA adapter merged in, or its fully fine-tuned model)."""
    model, tok, _ = load_for_eval(model_or_run)
    return model, tok


def load_for_eval(model_or_run: str | os.PathLike[str]) -> tuple[Any, Any, str]:
    """Load ``(model, tokenizer, provenance)`` in eval mode.

    Accepts an offline alias, a local model folder or hub id, or a training run folder: its base
    model with the LoRA adapter merged in (or its fully fine-tuned model). An unfinished run
    folder is an error. ``provenance`` says which model and which training data made the weights.
    """
    from instructmine import models

    if not looks_like_run(model_or_run):
        model, tok = models.load_causal_lm(model_or_run)
        model.eval()
        return model, tok, models.describe(model_or_run)
    run = RunDir(Path(model_or_run).resolve())
    run.require_finished()
    cfg, manifest = run.config(), run.manifest()
    data = (
        f"{manifest['n_records']} records of {manifest['pool']} "
        f"(sha256 {manifest['pool_sha256'][:12]})"
    )
    weights = run.weights_dir(cfg["method"])
    if cfg["method"] != "full":
        from peft import PeftModel

        base, _ = models.load_causal_lm(cfg["model"])
        model = PeftModel.from_pretrained(base, str(weights)).merge_and_unload()
        tok = models.load_tokenizer(weights)
        what = (
            f"{models.describe(cfg['model'])} + {cfg['method']} adapter merged from run {run.path}"
        )
    else:
        model, tok = models.load_causal_lm(weights)
        what = f"{models.describe(cfg['model'])} fully fine-tuned in run {run.path}"
    model.eval()
    return model, tok, f"{what}, trained on {data}"
