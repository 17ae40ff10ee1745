"""UniEval Boolean-QA: exact input strings, the seq2seq path (one decoder step) and the causal
substitute path, each against a direct computation with the stock model classes."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_indicators import EDGE_CASES, alpaca_records

from instructmine.indicators.base import examples_from_batch
from instructmine.indicators.registry import create
from instructmine.indicators.unieval import unieval_input
from instructmine.schema import table_from_records

DIMS = ["naturalness", "coherence", "understandability"]


def examples(records):
    return examples_from_batch(table_from_records([{"source": "t", **r} for r in records]))


def test_input_strings_are_unievals_dialog_format():
    assert unieval_input("naturalness", "P", "R") == (
        "question: Is this a natural response in the dialogue? </s> response: R"
    )
    assert unieval_input("coherence", "P", "R") == (
        "question: Is this a coherent response given the dialogue history? </s> "
        "response: R </s> dialogue history: P"
    )
    assert unieval_input("understandability", "P", "R") == (
        "question: Is this an understandable response in the dialogue? </s> response: R"
    )


def yes_no(tok):
    return (
        tok("Yes", add_special_tokens=False)["input_ids"][0],
        tok("No", add_special_tokens=False)["input_ids"][0],
    )


@pytest.mark.parametrize("dim", DIMS)
def test_seq2seq_path(dim, tiny_t5_dir):
    import torch

    from instructmine.models import load_seq2seq_lm

    exs = examples(alpaca_records(5) + EDGE_CASES[2:4])
    ind = create(f"unieval_{dim}", model=str(tiny_t5_dir), batch_size=3)
    ind.setup()
    got = ind.score(exs)[f"unieval_{dim}"]
    model, tok = load_seq2seq_lm(tiny_t5_dir)
    yes, no = yes_no(tok)
    for e, g in zip(exs, got, strict=True):
        enc = tok(unieval_input(dim, e.prompt_text, e.response), return_tensors="pt")
        with torch.no_grad():
            # UniEval: labels of one token -> the decoder runs one step from its start token
            logits = model(**enc, labels=torch.tensor([[no]])).logits[0, 0]
        p = torch.softmax(logits, -1)
        assert g == pytest.approx(float(p[yes] / (p[yes] + p[no])), rel=1e-4), e.id
    assert np.all((got > 0) & (got < 1))


def test_causal_substitute_path(tiny_llama_dir):
    import torch

    from instructmine.models import load_causal_lm

    exs = examples(alpaca_records(5) + EDGE_CASES[2:4])
    ind = create("unieval_coherence", model=str(tiny_llama_dir), batch_size=3)
    ind.setup()
    got = ind.score(exs)["unieval_coherence"]
    model, tok = load_causal_lm(tiny_llama_dir)
    yes, no = yes_no(tok)
    texts = ind.inputs(exs)
    assert "Dialogue history" in texts[0] and exs[0].response in texts[0]
    for text, g in zip(texts, got, strict=True):
        ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            p = torch.softmax(model(input_ids=ids).logits[0, -1], -1)
        assert g == pytest.approx(float(p[yes] / (p[yes] + p[no])), rel=1e-4)


def test_default_substitute_is_flagged_as_placeholder():
    ind = create("unieval_naturalness")
    assert ind.is_substitute
    assert "PLACEHOLDER" in ind.note and "chance" in ind.note
