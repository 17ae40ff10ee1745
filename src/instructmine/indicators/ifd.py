"""``ifd``: Cherry LLM's instruction-following difficulty, loss(response | prompt) / loss(response).

Both losses are mean NLL per response token under the same causal LM and template; the
unconditioned loss scores the response as a lone assistant turn (so a chat template's own system
prompt, if any, is the only context). IFD near or above 1 means the prompt does not help the
model predict the response. Shares its conditional forward passes with ``perplexity``, and
its response-alone passes ride in the same token-budget batches (``indicators/causal.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from instructmine.indicators.base import Example, Indicator
from instructmine.indicators.causal import RUNTIME_PARAMS, CausalParams, need, response_nll
from instructmine.indicators.registry import register


@register
class IFD(Indicator):
    """Instruction-following difficulty (Li et al. 2023, Cherry LLM)."""

    registry_name = "ifd"
    Params = CausalParams
    runtime_params = RUNTIME_PARAMS
    paper_model = None  # not an InstructMining indicator; Cherry LLM used the model being tuned
    description = "loss(response | prompt) / loss(response) (Cherry LLM's IFD)"

    def load(self) -> None:
        self.state.causal_lm(self.params.model)
        need(self.state, self.params, ("conditional", "response_only"))

    def score(self, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        cond = response_nll(self.state, self.params, examples, "conditional")
        alone = response_nll(self.state, self.params, examples, "response_only")
        return {
            "ifd": np.array([c.mean / a.mean for c, a in zip(cond, alone, strict=True)], np.float64)
        }
