"""Reward models: the three input formats, batched = one by one, and no model = clear error."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_indicators import EDGE_CASES, alpaca_records

from instructmine.indicators.base import examples_from_batch
from instructmine.indicators.registry import create
from instructmine.indicators.reward import oasst_text
from instructmine.schema import table_from_records


def examples(records):
    return examples_from_batch(table_from_records([{"source": "t", **r} for r in records]))


def test_oasst_format_string():
    assert oasst_text("Hi?", "Hello.") == (
        "<|prompter|>Hi?<|endoftext|><|assistant|>Hello.<|endoftext|>"
    )


def one_by_one(ind, exs):
    return np.array([ind.score([e])["reward"][0] for e in exs])


@pytest.mark.parametrize("fmt", ["oasst", "chat_template"])
def test_llama_classifier_formats(fmt, tiny_llama_rm_dir):
    import torch

    from instructmine.models import load_sequence_classifier

    exs = examples(alpaca_records(6) + EDGE_CASES[:4])
    ind = create("reward", model=str(tiny_llama_rm_dir), input_format=fmt, batch_size=4)
    ind.setup()
    got = ind.score(exs)["reward"]
    np.testing.assert_allclose(got, one_by_one(ind, exs), rtol=1e-4, atol=1e-5)
    # reference: the stock model on the exact documented input string
    model, tok = load_sequence_classifier(tiny_llama_rm_dir)
    e = exs[0]
    if fmt == "oasst":
        text = oasst_text(e.prompt_text, e.response)
        enc = tok(text, return_tensors="pt")
    else:
        conv = [*e.prompt, {"role": "assistant", "content": e.response}]
        text = tok.apply_chat_template(conv, tokenize=False)
        enc = tok(text, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        ref = float(model(**enc).logits[0, 0])
    assert got[0] == pytest.approx(ref, rel=1e-4, abs=1e-5)


def test_bert_pair_format(tiny_bert_rm_dir):
    import torch

    from instructmine.models import load_sequence_classifier

    exs = examples(alpaca_records(6))
    ind = create("reward", model=str(tiny_bert_rm_dir), input_format="pair", batch_size=4)
    ind.setup()
    got = ind.score(exs)["reward"]
    model, tok = load_sequence_classifier(tiny_bert_rm_dir)
    for e, g in zip(exs, got, strict=True):
        enc = tok(e.prompt_text, e.response, return_tensors="pt", truncation=True, max_length=1024)
        with torch.no_grad():
            assert g == pytest.approx(float(model(**enc).logits[0, 0]), rel=1e-4, abs=1e-5)
    assert np.std(got) > 0  # the pair inputs differ, so do the scores


def test_reward_without_model_is_an_error():
    ind = create("reward")
    assert "model" in ind.note
    with pytest.raises(ValueError, match="none ships offline"):
        ind.setup()


def test_label_index_out_of_range(tiny_bert_rm_dir):
    ind = create("reward", model=str(tiny_bert_rm_dir), label_index=3)
    with pytest.raises(ValueError, match="labels"):
        ind.setup()
