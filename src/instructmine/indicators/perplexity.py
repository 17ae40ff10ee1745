"""``perplexity``: exp of the mean NLL of the response tokens given the prompt.

Loss is on the last assistant turn only (its closing end-of-turn token included), through the
shared ``nll.py`` code path (length-sorted batches, LM head only at response positions). The
paper used its base LM on plain text; the offline default is SmolLM2-135M-Instruct with its chat
template (``template="plain"`` gives the paper's ``"{instruction}\\n\\n"`` form).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from instructmine.indicators.base import Example, Indicator
from instructmine.indicators.causal import RUNTIME_PARAMS, CausalParams, need, response_nll
from instructmine.indicators.registry import register


@register
class Perplexity(Indicator):
    """Perplexity of the response given the prompt."""

    registry_name = "perplexity"
    Params = CausalParams
    runtime_params = RUNTIME_PARAMS
    paper_model = "the base LM being fine-tuned (LLaMA-2-7B)"
    description = "exp(mean NLL of the response tokens given the prompt)"

    def load(self) -> None:
        self.state.causal_lm(self.params.model)
        need(self.state, self.params, ("conditional",))

    def score(self, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        nll = response_nll(self.state, self.params, examples, "conditional")
        return {"perplexity": np.exp(np.array([x.mean for x in nll], dtype=np.float64))}
