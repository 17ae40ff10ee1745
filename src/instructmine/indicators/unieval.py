"""UniEval dialog Boolean-QA scores: ``unieval_naturalness``, ``unieval_coherence``,
``unieval_understandability`` (Zhong et al. 2022; one model, three questions).

Seq2seq path (the paper's ``MingZhong/unieval-dialog`` T5, or any encoder-decoder): the input is
UniEval's dialog format, exactly::

    question: Is this a natural response in the dialogue? </s> response: {response}
    question: Is this a coherent response given the dialogue history? </s> response: {response}
      </s> dialogue history: {prompt}
    question: Is this an understandable response in the dialogue? </s> response: {response}

The decoder runs one step from its start token and the score is P(Yes) / (P(Yes) + P(No)) over
that first position's softmax (``Yes``/``No`` = the first token of each word, as UniEval does).

Causal path (the offline substitute): the same question is put to an instruct model through its
chat template, and the score is P(Yes) / (P(Yes) + P(No)) at the first token of its answer.
The offline default, SmolLM2-135M-Instruct, answers these questions at chance (DESIGN §5: AUC
≈ 0.50 against an outside judge), so its scores are a PLACEHOLDER that keeps the code path real,
not a quality signal. Pass ``model=`` a UniEval T5 folder for the paper's scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from instructmine.indicators.base import Example, Indicator, IndicatorParams
from instructmine.indicators.registry import register

PAPER_MODEL = "MingZhong/unieval-dialog"
DEFAULT_MODEL = "smollm2-135m-instruct"

QUESTIONS = {
    "naturalness": "Is this a natural response in the dialogue?",
    "coherence": "Is this a coherent response given the dialogue history?",
    "understandability": "Is this an understandable response in the dialogue?",
}


def unieval_input(dimension: str, prompt: str, response: str) -> str:
    """UniEval's dialog Boolean-QA input string for one dimension."""
    text = f"question: {QUESTIONS[dimension]} </s> response: {response}"
    if dimension == "coherence":
        text += f" </s> dialogue history: {prompt}"
    return text


def causal_question(dimension: str, prompt: str, response: str) -> str:
    """The same question as a user message for an instruct model (the offline substitute)."""
    parts = [QUESTIONS[dimension].replace("the dialogue", "a dialogue")]
    if dimension == "coherence":
        parts.append(f"Dialogue history:\n{prompt}")
    parts.append(f"Response:\n{response}")
    parts.append("Answer with Yes or No.")
    return "\n\n".join(parts)


class UniEvalParams(IndicatorParams):
    """Parameters of the UniEval indicators."""

    model: str = Field(DEFAULT_MODEL, description="UniEval T5 folder/hub id, or a causal LM")
    architecture: Literal["auto", "seq2seq", "causal"] = Field(
        "auto", description="auto: seq2seq when the model config is an encoder-decoder"
    )
    max_length: int = Field(1024, gt=0, description="input tokens kept (truncated)")
    batch_size: int = Field(8, gt=0)


class UniEval(Indicator):
    """Shared body of the three UniEval dimensions."""

    dimension: ClassVar[str]
    Params = UniEvalParams
    paper_model = PAPER_MODEL

    @property
    def note(self) -> str:
        if self.params.model == DEFAULT_MODEL:
            return (
                "PLACEHOLDER: SmolLM2-135M answering the Yes/No question is at chance "
                "(AUC≈0.50); not a quality signal"
            )
        return ""

    def load(self) -> None:
        from transformers import AutoConfig

        from instructmine.models import resolve

        arch = self.params.architecture
        if arch == "auto":
            cfg = AutoConfig.from_pretrained(resolve(self.params.model))
            arch = "seq2seq" if getattr(cfg, "is_encoder_decoder", False) else "causal"
        self._arch = arch
        load = self.state.seq2seq_lm if arch == "seq2seq" else self.state.causal_lm
        self._model, self._tok = load(self.params.model)
        self._yes = self._first_token("Yes")
        self._no = self._first_token("No")
        if self._yes == self._no:
            raise ValueError(f"model {self.params.model!r}: 'Yes' and 'No' share a first token")

    def _first_token(self, word: str) -> int:
        ids = self._tok(word, add_special_tokens=False)["input_ids"]
        if not ids:
            raise ValueError(f"tokenizer of {self.params.model!r} gives no token for {word!r}")
        return ids[0]

    def inputs(self, examples: Sequence[Example]) -> list[str]:
        """The model inputs for a batch (UniEval strings, or chat-rendered questions)."""
        if self._arch == "seq2seq":
            return [unieval_input(self.dimension, e.prompt_text, e.response) for e in examples]
        from instructmine.prompting import render_prompt

        return [
            render_prompt(
                self._tok,
                [
                    {
                        "role": "user",
                        "content": causal_question(self.dimension, e.prompt_text, e.response),
                    }
                ],
            )
            for e in examples
        ]

    def _probs(self, texts: list[str]):
        import torch

        tok = self._tok
        if self._arch == "seq2seq":
            enc = tok(
                texts,
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self.params.max_length,
            )
            start = self._model.config.decoder_start_token_id
            dec = torch.full((len(texts), 1), start, dtype=torch.long)
            logits = self._model(**enc, decoder_input_ids=dec).logits[:, 0]
        else:
            chat = bool(getattr(tok, "chat_template", None))
            ids = tok(texts, add_special_tokens=not chat)["input_ids"]
            ids = [x[-self.params.max_length :] for x in ids]
            width = max(len(x) for x in ids)
            pad = tok.pad_token_id if tok.pad_token_id is not None else 0
            # left padding: the next-token position is the last column for every row
            input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids])
            mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids])
            logits = self._model(input_ids=input_ids, attention_mask=mask).logits[:, -1]
        p = torch.softmax(logits.float(), dim=-1)
        yes, no = p[:, self._yes].double(), p[:, self._no].double()
        return (yes / (yes + no)).numpy()

    def score(self, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        import torch

        texts = self.inputs(examples)
        out = np.empty(len(texts), dtype=np.float64)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        bs = self.params.batch_size
        with torch.inference_mode():
            for s in range(0, len(order), bs):
                idx = order[s : s + bs]
                out[idx] = self._probs([texts[i] for i in idx])
        return {self.name: out}


@register
class UniEvalNaturalness(UniEval):
    """Is this a natural response in the dialogue?"""

    registry_name = "unieval_naturalness"
    dimension = "naturalness"
    description = "UniEval dialog naturalness, P(Yes)/(P(Yes)+P(No))"


@register
class UniEvalCoherence(UniEval):
    """Is this a coherent response given the dialogue history?"""

    registry_name = "unieval_coherence"
    dimension = "coherence"
    description = "UniEval dialog coherence given the prompt, P(Yes)/(P(Yes)+P(No))"


@register
class UniEvalUnderstandability(UniEval):
    """Is this an understandable response in the dialogue?"""

    registry_name = "unieval_understandability"
    dimension = "understandability"
    description = "UniEval dialog understandability, P(Yes)/(P(Yes)+P(No))"
