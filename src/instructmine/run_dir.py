"""What a training run folder is: the one module that owns its layout and its "finished" test.

It sits below ``train/`` (which writes run folders) so that the core can read one:
:func:`instructmine.models.load_for_eval` loads a finished run and
:func:`instructmine.fingerprint.model_fingerprint` names it by content.

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
