"""Response NLL under a causal LM, shared by ``perplexity`` and ``ifd`` (through ``nll.py``).

Both indicators need NLL(response | prompt). A memo owned by the run
(:meth:`RunState.memo <instructmine.indicators.state.RunState.memo>`), keyed by the model's
content fingerprint, the template, the max length, the variant, the record id and a hash of the
scored conversation's content, lets the second indicator reuse the first one's forward passes
when the runner scores them over the same window. (Records are never shared across ids: a value
depends on the batch it was computed in by float rounding, so reusing a duplicate's value would
make results depend on which duplicate came first.) The memo is bounded, so memory does not grow
with the pool, and it lives only as long as the run, so no other run or pool ever reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import blake2b
from typing import TYPE_CHECKING, Literal

import orjson
from pydantic import Field

from instructmine.fingerprint import model_fingerprint
from instructmine.indicators.base import Example, IndicatorParams
from instructmine.nll import TokenNLL

if TYPE_CHECKING:
    from instructmine.indicators.state import RunState

Variant = Literal["conditional", "response_only"]
MEMO = "response_nll"
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


def _content_key(conv: list[dict[str, str]]) -> bytes:
    return blake2b(orjson.dumps(conv), digest_size=16).digest()


def response_nll(
    state: RunState, params: CausalParams, examples: Sequence[Example], variant: Variant
) -> list[TokenNLL]:
    """NLL of each example's response tokens (given its prompt, or alone), memoised in the
    run's ``state``."""
    from instructmine.nll import conversation_nll

    model, tok = state.causal_lm(params.model)
    memo = state.memo(MEMO, MEMO_SIZE)
    head = (model_fingerprint(params.model), params.template, params.max_length, variant)
    convs = [conversation(e, variant) for e in examples]
    keys = [(*head, e.id, _content_key(c)) for e, c in zip(examples, convs, strict=True)]
    out: list[TokenNLL | None] = [memo.get(k) for k in keys]
    todo = [i for i, v in enumerate(out) if v is None]
    if todo:
        got = conversation_nll(
            model,
            tok,
            [convs[i] for i in todo],
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
            memo.put(keys[i], value)
            out[i] = value
    return out  # type: ignore[return-value]
