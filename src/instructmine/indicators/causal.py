"""Response NLL under a causal LM, shared by ``perplexity`` and ``ifd`` (through ``nll.py``).

Both indicators need NLL(response | prompt); a small per-process memo keyed by (model, template,
max length, record id) lets the second one reuse the first one's forward passes when the runner
scores them over the same window. The memo is bounded, so memory does not grow with the pool.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from instructmine.indicators.base import Example, IndicatorParams
from instructmine.nll import TokenNLL

Variant = Literal["conditional", "response_only"]
_MEMO: OrderedDict[tuple, TokenNLL] = OrderedDict()
MEMO_SIZE = 65536


class CausalParams(IndicatorParams):
    """Parameters of the indicators computed with a causal LM."""

    model: str = Field("smollm2-135m-instruct", description="alias, local folder or hub id")
    template: Literal["auto", "chat", "plain"] = Field(
        "auto", description="chat template if the tokenizer has one (auto), or plain text"
    )
    max_length: int = Field(2048, gt=0, description="tokens kept (truncated from the left)")
    batch_size: int = Field(8, gt=0)


def conversation(example: Example, variant: Variant) -> list[dict[str, str]]:
    """The conversation scored: prompt turns + response, or the response alone."""
    reply = {"role": "assistant", "content": example.response}
    return [*example.prompt, reply] if variant == "conditional" else [reply]


def response_nll(
    params: CausalParams, examples: Sequence[Example], variant: Variant
) -> list[TokenNLL]:
    """NLL of each example's response tokens (given its prompt, or alone), memoised."""
    from instructmine.indicators import loaded
    from instructmine.nll import conversation_nll

    model, tok = loaded.causal_lm(params.model)
    keys = [(params.model, params.template, params.max_length, variant, e.id) for e in examples]
    todo = [i for i, k in enumerate(keys) if k not in _MEMO]
    if todo:
        got = conversation_nll(
            model,
            tok,
            [conversation(examples[i], variant) for i in todo],
            template=params.template,
            max_length=params.max_length,
            batch_size=params.batch_size,
        )
        for i, value in zip(todo, got, strict=True):
            if value.n_tokens == 0:
                raise ValueError(
                    f"record {examples[i].id!r}: no response tokens left to score "
                    f"(max_length={params.max_length}); raise max_length"
                )
            _MEMO[keys[i]] = value
    out = [_MEMO[k] for k in keys]
    for k in keys:
        _MEMO.move_to_end(k)
    while len(_MEMO) > MEMO_SIZE:
        _MEMO.popitem(last=False)
    return out
