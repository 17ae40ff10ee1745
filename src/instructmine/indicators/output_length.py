"""``output_length``: tokens in the response (the last assistant turn), no special tokens.

Same tokenizer rule as ``input_length`` (default SmolLM2's BPE; the paper used LLaMA's).
"""

from __future__ import annotations

from instructmine.indicators.base import Example
from instructmine.indicators.input_length import TokenLength
from instructmine.indicators.registry import register


@register
class OutputLength(TokenLength):
    """Tokens in the response."""

    registry_name = "output_length"
    description = "tokens in the response (the last assistant turn)"

    def text(self, example: Example) -> str:
        return example.response
