"""Response NLL under a causal LM, shared by ``perplexity`` and ``ifd`` (through ``nll.py``).

Both indicators need NLL(response | prompt); IFD also needs NLL(response) alone. Each indicator
declares in ``load()`` which variants it needs (:func:`need`), and the first indicator that
scores a chunk computes *every* variant the run needs for it in one ``nll.py`` call: the
conditional and the response-alone sequences are length-sorted together into token-budget
batches (``batch_tokens`` padded tokens a forward pass), so IFD's second pass rides in the
same batches as perplexity's and no batch is cut short by the end of one variant's list.

A memo owned by the run (:meth:`RunState.memo
<instructmine.indicators.state.RunState.memo>`), keyed by the model's content fingerprint, the
template, the max length, the precision, the variant, the record id and a hash of the scored
conversation's content, hands the values to the other indicator. (Records are never shared
across ids: a value depends on the batch it was computed in by float rounding, so reusing a
duplicate's value would make results depend on which duplicate came first.) The memo is
bounded, so memory does not grow with the pool, and it lives only as long as the run, so no
other run or pool ever reads it.

``precision="int8"`` scores with a copy of the model whose linear layers are dynamically
quantised to int8 (:func:`int8_model`), made once per run and model; the precision is part of
the indicator's parameters, hence of its cache key and of the score file's provenance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import blake2b
from typing import TYPE_CHECKING, Any, Literal

import orjson
from pydantic import Field

from instructmine.fingerprint import model_fingerprint
from instructmine.indicators.base import Example, IndicatorParams
from instructmine.nll import TokenNLL

if TYPE_CHECKING:
    from instructmine.indicators.state import RunState

Variant = Literal["conditional", "response_only"]
Precision = Literal["fp32", "int8"]
MEMO = "response_nll"
MEMO_SIZE = 65536
#: Memo of the variants the run's indicators need, per (model, template, max length, precision).
WANTED = "response_nll_variants"
#: Memo of int8 copies of the run's causal LMs, per model fingerprint.
INT8 = "causal_lm_int8"


class CausalParams(IndicatorParams):
    """Parameters of the indicators computed with a causal LM."""

    model: str = Field("smollm2-135m-instruct", description="alias, local folder or hub id")
    template: Literal["auto", "chat", "plain"] = Field(
        "auto", description="chat template if the tokenizer has one (auto), or plain text"
    )
    max_length: int = Field(2048, gt=0, description="tokens kept (truncated from the left)")
    batch_size: int = Field(64, gt=0, description="most sequences in one forward batch")
    batch_tokens: int = Field(
        2048, gt=0, description="most padded tokens in one forward batch (length-sorted)"
    )
    precision: Precision = Field(
        "fp32",
        description="fp32, or int8: linear layers dynamically quantised (faster, approximate)",
    )


#: Parameters of causal indicators that change speed but not results (left out of cache keys).
RUNTIME_PARAMS = frozenset({"batch_size", "batch_tokens"})


def conversation(example: Example, variant: Variant) -> list[dict[str, str]]:
    """The conversation scored: prompt turns + response, or the response alone."""
    reply = {"role": "assistant", "content": example.response}
    return [*example.prompt, reply] if variant == "conditional" else [reply]


def _content_key(conv: list[dict[str, str]]) -> bytes:
    return blake2b(orjson.dumps(conv), digest_size=16).digest()


def _head(params: CausalParams) -> tuple:
    return (model_fingerprint(params.model), params.template, params.max_length, params.precision)


def need(state: RunState, params: CausalParams, variants: Iterable[Variant]) -> None:
    """Declare (from an indicator's ``load()``) that the run needs these variants, so whichever
    indicator scores a chunk first computes them all in one batched pass."""
    wanted = state.memo(WANTED, 256)
    head = _head(params)
    wanted.put(head, frozenset(wanted.get(head) or ()) | frozenset(variants))


#: Linear layers left in fp32 by :func:`int8_model`: their inputs carry the activation outliers
#: that one int8 scale per batch cannot hold (SmolLM2 probe, benchmarks/RESULTS.md).
INT8_SKIP = ("down_proj", "lm_head")


def int8_model(model: Any) -> Any:
    """A copy of ``model`` whose ``Linear`` layers (but ``INT8_SKIP``) are dynamically quantised
    to int8.

    Weights are quantised per output channel, activations per batch at run time
    (``torch.ao.quantization.quantize_dynamic``); embeddings, norms, the MLP's down projection
    and the LM head stay fp32. The original model is left untouched.
    """
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    spec = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] not in INT8_SKIP
    }
    with warnings.catch_warnings():  # torch marks its eager quantisation API as deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return quantize_dynamic(model, spec, dtype=torch.qint8, inplace=False).eval()


def scoring_model(state: RunState, params: CausalParams) -> tuple[Any, Any]:
    """``(model, tokenizer)`` at the configured precision (an int8 copy is made once a run)."""
    model, tok = state.causal_lm(params.model)
    if params.precision == "fp32":
        return model, tok
    memo = state.memo(INT8, 4)
    key = model_fingerprint(params.model) or params.model
    quantised = memo.get(key)
    if quantised is None:
        quantised = int8_model(model)
        memo.put(key, quantised)
    return quantised, tok


def response_nll(
    state: RunState, params: CausalParams, examples: Sequence[Example], variant: Variant
) -> list[TokenNLL]:
    """NLL of each example's response tokens (given its prompt, or alone), memoised in the
    run's ``state``; the other variants the run needs (:func:`need`) are computed alongside."""
    from instructmine.nll import conversation_nll

    model, tok = scoring_model(state, params)
    memo = state.memo(MEMO, MEMO_SIZE)
    head = _head(params)
    others = sorted((state.memo(WANTED, 256).get(head) or frozenset()) - {variant})
    values: dict[tuple, TokenNLL] = {}
    todo: list[tuple[tuple, list[dict[str, str]]]] = []
    for v in (variant, *others):
        for e in examples:
            conv = conversation(e, v)
            key = (*head, v, e.id, _content_key(conv))
            got = memo.get(key)
            if got is None:
                todo.append((key, conv))
            else:
                values[key] = got
    if todo:
        got = conversation_nll(
            model,
            tok,
            [conv for _, conv in todo],
            template=params.template,
            max_length=params.max_length,
            batch_size=params.batch_size,
            batch_tokens=params.batch_tokens,
        )
        for (key, _), value in zip(todo, got, strict=True):
            memo.put(key, value)
            values[key] = value
    out = []
    for e in examples:
        value = values[(*head, variant, e.id, _content_key(conversation(e, variant)))]
        if value.n_tokens == 0:
            raise ValueError(
                f"record {e.id!r}: no response tokens left to score "
                f"(max_length={params.max_length}); raise max_length"
            )
        out.append(value)
    return out
