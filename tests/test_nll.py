"""Batched, head-sliced NLL equals a plain unbatched full-logits computation."""

import math

import pytest

from instructmine.models import load_causal_lm
from instructmine.nll import conversation_nll
from instructmine.prompting import IGNORE_INDEX, encode

CONVS = [
    [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris."},
    ],
    [
        {"role": "user", "content": "Write a function."},
        {"role": "assistant", "content": "def add(a, b):\n    return a + b"},
    ],
    [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Tips?"},
        {"role": "assistant", "content": "Eat a balanced diet, exercise regularly and sleep well."},
    ],
]


def _reference(model, tokenizer, conv, last_only):
    import torch
    import torch.nn.functional as F

    enc = encode(tokenizer, conv, train_on="last_assistant" if last_only else "all_assistant")
    ids = torch.tensor([enc.input_ids])
    labels = torch.tensor(enc.labels[1:])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1]
    keep = labels != IGNORE_INDEX
    return float(F.cross_entropy(logits[keep], labels[keep], reduction="sum")), int(keep.sum())


@pytest.mark.parametrize("last_only", [True, False])
def test_batched_equals_unbatched(tiny_llama_dir, last_only):
    model, tok = load_causal_lm(tiny_llama_dir)
    got = conversation_nll(model, tok, CONVS, batch_size=2, last_turn_only=last_only)
    for conv, res in zip(CONVS, got, strict=True):
        ref_sum, ref_n = _reference(model, tok, conv, last_only)
        assert res.n_tokens == ref_n > 0
        assert math.isclose(res.sum_nll, ref_sum, rel_tol=1e-4)


def test_left_truncation_keeps_response(tiny_llama_dir):
    model, tok = load_causal_lm(tiny_llama_dir)
    long_prompt = [
        {"role": "user", "content": "word " * 300},
        {"role": "assistant", "content": "Short answer."},
    ]
    full = conversation_nll(model, tok, [long_prompt], max_length=None)[0]
    cut = conversation_nll(model, tok, [long_prompt], max_length=64)[0]
    assert cut.n_tokens == full.n_tokens
    assert math.isfinite(cut.mean)


def test_shared_prefix_is_computed_once_with_the_same_values(tiny_llama_dir, monkeypatch):
    """Conversations opening with the same system turn share a prefix that is run only once."""
    from instructmine import nll
    from instructmine.nll import encoded_nll, shared_prefix_length

    batches_from_cache = []
    real = nll._expanded_cache
    monkeypatch.setattr(
        nll, "_expanded_cache", lambda kv, b: batches_from_cache.append(b) or real(kv, b)
    )

    model, tok = load_causal_lm(tiny_llama_dir)
    system = {"role": "system", "content": "You are a helpful assistant who answers briefly."}
    convs = [
        [system, *CONVS[0]],
        [system, *CONVS[1]],
        [
            system,
            {"role": "user", "content": "Name three colours."},
            {"role": "assistant", "content": "Red, green and blue."},
            {"role": "user", "content": "And two more?"},
            {"role": "assistant", "content": "Yellow and purple."},
        ],
    ]
    encs = [encode(tok, c, train_on="all_assistant") for c in convs]
    skip = shared_prefix_length(encs)
    first_label = min(next(j for j, v in enumerate(e.labels) if v != IGNORE_INDEX) for e in encs)
    assert 8 <= skip < first_label
    assert all(e.input_ids[:skip] == encs[0].input_ids[:skip] for e in encs)
    shared = encoded_nll(model, encs, batch_size=2)
    assert batches_from_cache == [2, 1]  # both batches started from the cached prefix
    plain = encoded_nll(model, encs, batch_size=2, share_prefix=False)
    assert batches_from_cache == [2, 1]
    for conv, a, b in zip(convs, shared, plain, strict=True):
        ref_sum, ref_n = _reference(model, tok, conv, last_only=False)
        assert a.n_tokens == b.n_tokens == ref_n > 0
        assert math.isclose(a.sum_nll, ref_sum, rel_tol=1e-4)
        assert math.isclose(b.sum_nll, ref_sum, rel_tol=1e-4)
    # a different system turn breaks the shared prefix: nothing is cached
    assert shared_prefix_length([*encs, encode(tok, CONVS[2])]) == 0


def test_length_batches_cap_rows_and_padded_tokens():
    from instructmine.nll import length_batches

    # longest first: the 1900-token example takes one other, the short ones fill batches of 8
    lengths = [1900, 700, 600, 300, 300, *([100] * 12)]
    got = length_batches(lengths, batch_size=8, budget=8 * 512)
    assert got == [(0, 2), (2, 8), (8, 16), (16, 17)]
    assert [b - a for a, b in got] == [2, 6, 8, 1]
    for a, b in got:  # every batch within the budget (padded to its longest)
        assert (b - a) * lengths[a] <= 8 * 512
    assert length_batches([5000, 10], batch_size=8, budget=512) == [(0, 1), (1, 2)]
    assert length_batches([], batch_size=8, budget=512) == []


def test_token_budget_changes_batches_not_values(tiny_llama_dir):
    from instructmine.nll import encoded_nll

    model, tok = load_causal_lm(str(tiny_llama_dir))
    encs = [encode(tok, c, train_on="all_assistant") for c in CONVS]
    wide = encoded_nll(model, encs, batch_size=3, share_prefix=False)
    narrow = encoded_nll(model, encs, batch_size=3, share_prefix=False, batch_tokens=1)
    for a, b in zip(wide, narrow, strict=True):  # batch_tokens=1: one example per batch
        assert a.n_tokens == b.n_tokens > 0
        assert math.isclose(a.sum_nll, b.sum_nll, rel_tol=1e-4)
