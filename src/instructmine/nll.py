"""Negative log-likelihood of labelled tokens: one code path for perplexity, IFD and eval loss.

Sequences are length-sorted into batches (less padding) and the LM head is applied only at the
positions whose next token carries a label, which on a 49k-vocabulary model is most of the
forward cost saved on prompt tokens. A prefix that every sequence of a call shares (a chat
template's default system prompt: 24 of ≈106 tokens of an Alpaca record with SmolLM2) is run
once and reused through the KV cache. Results come back in input order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from instructmine.chunked_ce import labelled_nll
from instructmine.prompting import IGNORE_INDEX, Encoded, Template, encode
from instructmine.schema import Message


@dataclass(frozen=True)
class TokenNLL:
    """Summed NLL (nats) over an example's labelled tokens, and how many tokens were labelled."""

    sum_nll: float
    n_tokens: int

    @property
    def mean(self) -> float:
        """Mean NLL per labelled token (``nan`` when nothing was labelled)."""
        return self.sum_nll / self.n_tokens if self.n_tokens else math.nan


def _left_truncate(enc: Encoded, max_length: int | None) -> Encoded:
    if max_length is None or len(enc.input_ids) <= max_length:
        return enc
    return Encoded(enc.input_ids[-max_length:], enc.labels[-max_length:])


#: Shortest shared prefix worth a separate forward pass and a KV cache.
MIN_SHARED_PREFIX = 8


def shared_prefix_length(encodeds: Sequence[Encoded]) -> int:
    """How many leading tokens every example shares and can be computed once.

    The cut stops before the first labelled token of any example (a labelled token is
    predicted from the position before it, whose hidden state the batch must compute). Returns
    0 for fewer than two examples or a prefix shorter than ``MIN_SHARED_PREFIX``.
    """
    if len(encodeds) < 2:
        return 0
    first = encodeds[0].input_ids
    n = min(len(e.input_ids) for e in encodeds) - 1  # keep at least one token per example
    for e in encodeds:
        k = 0
        while k < n and e.input_ids[k] == first[k]:
            k += 1
        n = k
        labelled = next((j for j, v in enumerate(e.labels) if v != IGNORE_INDEX), None)
        if labelled is not None:
            n = min(n, labelled - 1)
        if n < MIN_SHARED_PREFIX:
            return 0
    return n


def _prefix_kv(model: Any, prefix: list[int]) -> list[tuple[Any, Any]] | None:
    """Per-layer (keys, values) of ``prefix`` (batch 1), or None if the model has no KV cache."""
    import torch

    try:
        out = model(input_ids=torch.tensor([prefix]), use_cache=True)
        cache = out.past_key_values
        layers = [(layer.keys, layer.values) for layer in cache.layers]
    except (AttributeError, TypeError, ValueError):
        return None
    return layers if layers and all(k is not None for k, _ in layers) else None


def _expanded_cache(kv: list[tuple[Any, Any]], batch: int) -> Any:
    """A fresh ``DynamicCache`` holding the prefix for every row (views, no copies)."""
    from transformers import DynamicCache

    return DynamicCache(
        ddp_cache_data=[(k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1)) for k, v in kv]
    )


def length_batches(
    lengths: Sequence[int], batch_size: int | None, budget: int
) -> list[tuple[int, int]]:
    """``(start, stop)`` batches over ``lengths`` (sorted longest first): at most ``batch_size``
    items (no cap when None), and ``items × longest ≤ budget`` unless the batch is a single
    item."""
    out, start = [], 0
    cap = batch_size if batch_size is not None else len(lengths)
    while start < len(lengths):
        rows = max(1, min(cap, budget // max(1, lengths[start])))
        out.append((start, min(start + rows, len(lengths))))
        start = out[-1][1]
    return out


#: Most response positions whose logits (``positions × vocabulary`` floats) exist at once.
HEAD_CHUNK = 1024


def _batch_nll(model: Any, ids: Any, lab: Any, extra: dict[str, Any]) -> tuple[Any, Any]:
    """Summed NLL (float64) and labelled-token count of each row of one padded batch.

    The LM head and the cross-entropy run over at most ``HEAD_CHUNK`` labelled positions at a
    time (:func:`instructmine.chunked_ce.labelled_nll`), so a large token-budget batch never
    holds all its response logits at once.
    """
    import torch

    nll, _, rows = labelled_nll(model, ids, None, lab, chunk=HEAD_CHUNK, **extra)
    n = ids.shape[0]
    sums = torch.zeros(n, dtype=torch.float64).index_add_(0, rows, nll.double())
    return sums, torch.bincount(rows, minlength=n)


def encoded_nll(
    model: Any,
    encodeds: Sequence[Encoded],
    batch_size: int | None = 8,
    pad_token_id: int = 0,
    progress: Callable[[int], None] | None = None,
    share_prefix: bool = True,
    batch_tokens: int | None = None,
) -> list[TokenNLL]:
    """NLL of each encoded example's labelled tokens under a causal LM, batched and length-sorted.

    A batch holds at most ``batch_size`` examples (no cap when None) and, padded to its
    longest, at most ``batch_tokens`` tokens (default ``batch_size × 512``), so one very long
    example does not pad seven short ones to its length (:func:`length_batches`). With
    ``batch_size=None`` batches are cut by the token budget alone: since the examples are
    sorted by length, a batch wastes only the few pad tokens between neighbouring lengths.
    The LM head runs in chunks of ``HEAD_CHUNK`` positions. ``progress`` is called with the
    number of examples finished after each batch. With ``share_prefix`` a leading token run
    common to all examples (:func:`shared_prefix_length`) is computed once and fed to every
    batch through the KV cache; the values are the same up to float rounding.
    """
    import torch

    order = sorted(range(len(encodeds)), key=lambda i: -len(encodeds[i].input_ids))
    out: list[TokenNLL | None] = [None] * len(encodeds)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            skip = shared_prefix_length(encodeds) if share_prefix else 0
            kv = _prefix_kv(model, list(encodeds[0].input_ids[:skip])) if skip else None
            if kv is None:
                skip = 0
            if batch_tokens is None and batch_size is None:
                raise ValueError("encoded_nll needs batch_size or batch_tokens (or both)")
            budget = batch_tokens or batch_size * 512
            lengths = [len(encodeds[i].input_ids) for i in order]
            for start, stop in length_batches(lengths, batch_size, budget):
                idx = order[start:stop]
                width = max(len(encodeds[i].input_ids) for i in idx) - skip
                ids = torch.full((len(idx), width), pad_token_id, dtype=torch.long)
                lab = torch.full((len(idx), width), IGNORE_INDEX, dtype=torch.long)
                for r, i in enumerate(idx):
                    n = len(encodeds[i].input_ids) - skip
                    ids[r, :n] = torch.tensor(encodeds[i].input_ids[skip:])
                    lab[r, :n] = torch.tensor(encodeds[i].labels[skip:])
                # Right padding under causal attention: real tokens never attend to the pads
                # after them and pads carry no label, so no mask is passed and SDPA takes its
                # is_causal fast path (≈5% faster on CPU, same values; benchmarks/RESULTS.md).
                # With a shared prefix, the cache holds it, positions continue after it and
                # transformers builds the causal mask with that offset.
                extra = {"past_key_values": _expanded_cache(kv, len(idx))} if kv else {}
                sums, counts = _batch_nll(model, ids, lab, extra)
                for r, i in enumerate(idx):
                    out[i] = TokenNLL(float(sums[r]), int(counts[r]))
                if progress is not None:
                    progress(len(idx))
    finally:
        model.train(was_training)
    return out  # type: ignore[return-value]


def conversation_nll(
    model: Any,
    tokenizer: Any,
    conversations: Sequence[Sequence[Message]],
    template: Template = "auto",
    max_length: int | None = 2048,
    batch_size: int | None = 8,
    last_turn_only: bool = True,
    progress: Callable[[int], None] | None = None,
    batch_tokens: int | None = None,
) -> list[TokenNLL]:
    """NLL of the assistant tokens of each conversation given everything before them.

    With ``last_turn_only`` only the final assistant turn is scored (the *response* of
    DESIGN §2.1); otherwise every assistant turn is. Over-long examples are truncated from the
    left so the response is kept. ``batch_size`` and ``batch_tokens`` bound a forward batch
    (:func:`encoded_nll`).
    """
    train_on = "last_assistant" if last_turn_only else "all_assistant"
    encs = [
        _left_truncate(encode(tokenizer, conv, template, train_on=train_on), max_length)
        for conv in conversations
    ]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    return encoded_nll(
        model,
        encs,
        batch_size=batch_size,
        pad_token_id=pad,
        progress=progress,
        batch_tokens=batch_tokens,
    )
