"""``input_length``: tokens in the prompt (all turns before the response), no special tokens.

The paper counted LLaMA tokenizer tokens (SentencePiece). The offline default is SmolLM2's
tokenizer (a 49k byte-level BPE of a LLaMA-architecture model); pass ``tokenizer=`` to count with
another one (e.g. a local copy of LLaMA's). A multi-turn prompt is counted as its flattened text
(``role: content`` lines, see ``schema.prompt_text``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from instructmine.indicators.base import Example, Indicator, IndicatorParams
from instructmine.indicators.registry import register


class LengthParams(IndicatorParams):
    """Parameters of the length indicators."""

    tokenizer: str = "smollm2-135m-instruct"


class TokenLength(Indicator):
    """Shared body of ``input_length`` / ``output_length``: count tokens of one text per record."""

    Params = LengthParams
    paper_model = "LLaMA tokenizer"

    @property
    def model_name(self) -> str:
        return self.params.tokenizer

    def load(self) -> None:
        self._tok = self.state.tokenizer(self.params.tokenizer)

    def text(self, example: Example) -> str:
        raise NotImplementedError

    def sort_key(self, examples: Sequence[Example]) -> np.ndarray:
        return np.zeros(len(examples), dtype=np.int64)

    def score(self, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        texts = [self.text(e) for e in examples]
        if not texts:
            return {self.name: np.zeros(0, dtype=np.int64)}
        ids = self._tok(texts, add_special_tokens=False)["input_ids"]
        return {self.name: np.array([len(x) for x in ids], dtype=np.int64)}


@register
class InputLength(TokenLength):
    """Tokens in the prompt."""

    registry_name = "input_length"
    description = "tokens in the prompt (instruction + input, or all turns before the response)"

    def text(self, example: Example) -> str:
        return example.prompt_text
