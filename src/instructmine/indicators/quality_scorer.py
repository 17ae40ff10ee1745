"""``quality_scorer``: a fast quality score of (prompt, response) distilled from judge labels.

``model`` is a scorer folder written by ``instructmine scorer train`` (docs/scorer.md); the
default, ``default``, is the scorer shipped in ``instructmine/data/scorers/default``, trained
on the shared AlpacaEval 2 judgements (GPT-4-turbo preferences over 26 models' answers to the
805 AlpacaEval instructions, within instruction). Its provenance (labels, judge, features, and
its agreement with the judge on answers of 12 models it never saw) goes into every score file.

Caveats: the shipped scorer has seen the 805 AlpacaEval instructions (do not select data with
it and then evaluate on AlpacaEval without saying so), and it inherits the judge's taste.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from instructmine.indicators.base import Example, Indicator, IndicatorParams
from instructmine.indicators.registry import register

DEFAULT_SCORER = "default"


def scorer_folder(name: str) -> Path:
    """The folder a scorer name stands for (``default`` is the shipped scorer)."""
    if name == DEFAULT_SCORER:
        return Path(__file__).resolve().parent.parent / "data" / "scorers" / "default"
    return Path(name).expanduser()


class QualityScorerParams(IndicatorParams):
    """Parameters of ``quality_scorer``."""

    model: str = Field(DEFAULT_SCORER, description="scorer folder (`instructmine scorer train`)")
    batch_size: int = Field(64, gt=0)


@register
class QualityScorer(Indicator):
    """Distilled judge score of the response to the prompt (higher is better)."""

    registry_name = "quality_scorer"
    Params = QualityScorerParams
    description = "fast judge-distilled quality of (prompt, response); model= a scorer folder"

    @property
    def model_name(self) -> str:
        return str(scorer_folder(self.params.model))

    @property
    def note(self) -> str:
        return (
            "distilled from GPT-4-turbo AlpacaEval judgements; has seen AlpacaEval's prompts"
            if (self.params.model == DEFAULT_SCORER)
            else ""
        )

    def _meta(self) -> dict[str, Any]:
        import json

        path = scorer_folder(self.params.model) / "scorer.json"
        if not path.exists():
            raise FileNotFoundError(
                f"quality_scorer: {path.parent} is not a scorer folder (no scorer.json); pass "
                "model=<folder written by `instructmine scorer train`>"
            )
        return json.loads(path.read_text())

    def provenance(self) -> dict[str, Any]:
        prov = super().provenance()
        meta = self._meta()
        held = meta.get("heldout_metrics") or {}
        prov["scorer"] = {
            "labels": meta.get("labels"),
            "features": meta.get("features"),
            "head": meta.get("head"),
            "train_labels": meta.get("train_labels"),
            "train_models": meta.get("train_models"),
            "heldout_models": held.get("models"),
            "heldout_agreement": {
                k: held[k] for k in ("scorer", "length", "adversarial") if k in held
            },
        }
        return prov

    def load(self) -> None:
        from instructmine.indicators.quality_model import Scorer

        self._meta()
        self._scorer = Scorer.load(scorer_folder(self.params.model))
        enc = self._scorer.features.encoder
        self._encoder = self.state.sentence_encoder(enc) if enc else None

    def score(self, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        from instructmine.indicators.quality_features import feature_matrix

        cfg = self._scorer.features.model_copy(update={"batch_size": self.params.batch_size})
        x = feature_matrix(
            [e.prompt_text for e in examples], [e.response for e in examples], cfg, self._encoder
        )
        return {self.name: self._scorer.predict(x).astype(np.float64)}
