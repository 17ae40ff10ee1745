"""Perplexity and IFD: batched scores equal a plain per-record forward pass (batch size 1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers_indicators import EDGE_CASES, alpaca_records

from instructmine.indicators.base import Example, examples_from_batch
from instructmine.indicators.registry import create
from instructmine.models import load_causal_lm
from instructmine.prompting import IGNORE_INDEX, encode
from instructmine.schema import table_from_records


def examples(records) -> list[Example]:
    return examples_from_batch(table_from_records([{"source": "t", **r} for r in records]))


def plain_mean_nll(model, tok, messages) -> float:
    """Reference: one record, full logits, cross-entropy over the last assistant turn."""
    import torch
    import torch.nn.functional as F

    enc = encode(tok, messages, "auto", train_on="last_assistant")
    ids = torch.tensor([enc.input_ids])
    labels = torch.tensor([enc.labels])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1]
    target = labels[0, 1:]
    keep = target != IGNORE_INDEX
    return float(F.cross_entropy(logits[keep].double(), target[keep]))


def check(model_name, records, batch_size):
    model, tok = load_causal_lm(model_name)
    model.eval()
    exs = examples(records)
    ppl = create("perplexity", model=str(model_name), batch_size=batch_size)
    ifd = create("ifd", model=str(model_name), batch_size=batch_size)
    ppl.setup()
    ifd.setup()
    got_ppl = ppl.score(exs)["perplexity"]
    got_ifd = ifd.score(exs)["ifd"]
    for e, p, f in zip(exs, got_ppl, got_ifd, strict=True):
        conv = [*e.prompt, {"role": "assistant", "content": e.response}]
        cond = plain_mean_nll(model, tok, conv)
        alone = plain_mean_nll(model, tok, [{"role": "assistant", "content": e.response}])
        assert p == pytest.approx(math.exp(cond), rel=1e-4), e.id
        assert f == pytest.approx(cond / alone, rel=1e-4), e.id


def test_batched_equals_unbatched_tiny(tiny_llama_dir):
    check(tiny_llama_dir, alpaca_records(12) + EDGE_CASES, batch_size=5)


@pytest.mark.slow
def test_batched_equals_unbatched_smollm2():
    recs = [r for r in alpaca_records(30) if len(r["messages"][-1]["content"]) < 200][:3]
    check("smollm2-135m-instruct", recs, batch_size=3)


def test_perplexity_uses_only_response_tokens(tiny_llama_dir):
    """Changing the prompt changes the score; the response's tokens are what is averaged."""
    exs = examples(alpaca_records(2))
    ind = create("perplexity", model=str(tiny_llama_dir))
    ind.setup()
    base = ind.score(exs)["perplexity"]
    other = [Example(e.id + "x", e.messages, [], e.response) for e in exs]
    assert not np.allclose(ind.score(other)["perplexity"], base)
