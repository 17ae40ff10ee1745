"""``reward``: a sequence-classification reward model's score of (prompt, response).

The paper used OpenAssistant's ``oasst-rm-2.1-pythia-1.4b-epoch-2.5``, which needs a custom class
from OpenAssistant's training code; what users load directly are stock
``AutoModelForSequenceClassification`` reward models, supported here with three input formats:

- ``pair``: ``tokenizer(prompt, response)`` as a text pair (OpenAssistant's DeBERTa-v3 RMs);
- ``oasst``: ``<|prompter|>{prompt}<|endoftext|><|assistant|>{response}<|endoftext|>``;
- ``chat_template``: the conversation rendered with the tokenizer's chat template.

The score is the logit of ``label_index`` (default 0, the single logit of a reward head). No
reward model ships offline, so ``reward`` has no default model: it is not in the default
indicator set, and asking for it without ``model=`` is an error, never a made-up score.

Offline substitute: ``model=distilled`` (or any scorer folder from ``instructmine scorer
train``) scores with the quality scorer distilled from GPT-4-turbo's AlpacaEval judgements
(docs/scorer.md). It is *not* the paper's OpenAssistant reward model and its scale differs, so
rules quoted from the paper (``paper-final``, ``paper-early``) become computable but their
reward term is approximate; provenance and notes say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from instructmine.indicators.base import Example, Indicator, IndicatorParams
from instructmine.indicators.registry import register

PAPER_MODEL = "OpenAssistant/oasst-rm-2.1-pythia-1.4b-epoch-2.5"
#: ``model=distilled``: the shipped judge-distilled quality scorer as an offline substitute.
DISTILLED = "distilled"


class RewardParams(IndicatorParams):
    """Parameters of ``reward``."""

    model: str | None = Field(
        None, description="a sequence-classification reward model (local folder or hub id)"
    )
    input_format: Literal["pair", "oasst", "chat_template"] = "pair"
    label_index: int = Field(0, ge=0)
    max_length: int = Field(1024, gt=0)
    batch_size: int = Field(8, gt=0)


def oasst_text(prompt: str, response: str) -> str:
    """OpenAssistant's reward-model input for one exchange."""
    return f"<|prompter|>{prompt}<|endoftext|><|assistant|>{response}<|endoftext|>"


@register
class Reward(Indicator):
    """Reward-model score of the response to the prompt."""

    registry_name = "reward"
    Params = RewardParams
    paper_model = PAPER_MODEL
    description = "reward-model score of (prompt, response); needs model= (none ships offline)"

    @property
    def distilled(self) -> bool:
        """True when the model is a distilled quality scorer (the offline substitute)."""
        from pathlib import Path

        m = self.params.model
        return m == DISTILLED or (m is not None and (Path(m).expanduser() / "scorer.json").exists())

    @property
    def model_name(self) -> str | None:
        if self.params.model == DISTILLED:
            from instructmine.indicators.quality_scorer import scorer_folder

            return str(scorer_folder("default"))
        return self.params.model

    @property
    def note(self) -> str:
        if self.params.model is None:
            return (
                "no offline reward model: pass model=<reward model folder or hub id>, or "
                "model=distilled for the judge-distilled substitute"
            )
        if self.distilled:
            return (
                "SUBSTITUTE: a quality scorer distilled from GPT-4-turbo AlpacaEval judgements, "
                f"not the paper's {PAPER_MODEL}; its scale differs from the paper's"
            )
        return ""

    def load(self) -> None:
        if self.distilled:
            from instructmine.indicators.quality_scorer import QualityScorer

            self._scorer = QualityScorer(
                model="default" if self.params.model == DISTILLED else self.params.model,
                batch_size=self.params.batch_size,
            )
            self._scorer.setup(self.state)
            return
        if self.params.model is None:
            raise ValueError(
                "indicator 'reward' needs a reward model and none ships offline: pass "
                "model=<folder or hub id> (e.g. -p reward.model=OpenAssistant/reward-model-"
                "deberta-v3-large-v2 with input_format=pair), -p reward.model=distilled for the "
                "judge-distilled offline substitute, or leave 'reward' out"
            )
        self._model, self._tok = self.state.sequence_classifier(self.params.model)
        n_labels = self._model.config.num_labels
        if self.params.label_index >= n_labels:
            raise ValueError(
                f"reward model {self.params.model!r} has {n_labels} labels; "
                f"label_index={self.params.label_index} is out of range"
            )
        if self._tok.pad_token is None:
            self._tok.pad_token = self._tok.eos_token
        if self._model.config.pad_token_id is None:
            self._model.config.pad_token_id = self._tok.pad_token_id

    def encode(self, examples: Sequence[Example]) -> dict:
        """Tokenize a batch in the configured input format (padded tensors)."""
        fmt = self.params.input_format
        kw = dict(truncation=True, max_length=self.params.max_length, padding=True)
        if fmt == "pair":
            prompts = [e.prompt_text for e in examples]
            return self._tok(prompts, [e.response for e in examples], return_tensors="pt", **kw)
        if fmt == "oasst":
            texts = [oasst_text(e.prompt_text, e.response) for e in examples]
            return self._tok(texts, return_tensors="pt", **kw)
        texts = [
            self._tok.apply_chat_template(
                [*e.prompt, {"role": "assistant", "content": e.response}], tokenize=False
            )
            for e in examples
        ]
        return self._tok(texts, return_tensors="pt", add_special_tokens=False, **kw)

    def score(self, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        if self.distilled:
            return {"reward": self._scorer.score(examples)["quality_scorer"]}
        import torch

        out = np.empty(len(examples), dtype=np.float64)
        order = np.argsort([-len(e.prompt_text) - len(e.response) for e in examples], kind="stable")
        bs = self.params.batch_size
        with torch.inference_mode():
            for start in range(0, len(order), bs):
                idx = order[start : start + bs]
                enc = self.encode([examples[i] for i in idx])
                logits = self._model(**enc).logits.float()
                out[idx] = logits[:, self.params.label_index].numpy()
        return {"reward": out}
