"""Scoring at the limit keeps the scores: perplexity and IFD computed in one token-budget pass
equal the per-record reference and the old per-variant batches (≤ 1e-4 relative); kNN's
token-budget batches equal plain encoding; the int8 path runs and is recorded as such."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest
from helpers_indicators import EDGE_CASES, alpaca_records, write_pool

from instructmine.indicators.base import examples_from_batch
from instructmine.indicators.causal import conversation
from instructmine.indicators.registry import create
from instructmine.indicators.state import RunState
from instructmine.models import load_causal_lm
from instructmine.prompting import IGNORE_INDEX, encode
from instructmine.runners.local import META_KEY, run_local
from instructmine.schema import table_from_records

REL = 1e-4  # stated tolerance: new scores vs the old path and vs a per-record forward pass


def examples(records):
    return examples_from_batch(table_from_records([{"source": "t", **r} for r in records]))


def plain_mean_nll(model, tok, messages) -> float:
    """Reference: one record, full logits, cross-entropy over the last assistant turn."""
    import torch
    import torch.nn.functional as F

    enc = encode(tok, messages, "auto", train_on="last_assistant")
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([enc.input_ids])).logits[0, :-1]
    target = torch.tensor(enc.labels[1:])
    keep = target != IGNORE_INDEX
    return float(F.cross_entropy(logits[keep].double(), target[keep]))


def joint_scores(model_name, exs, **params):
    state = RunState()
    ppl = create("perplexity", model=str(model_name), **params)
    ifd = create("ifd", model=str(model_name), **params)
    ppl.setup(state)
    ifd.setup(state)
    return ppl.score(exs)["perplexity"], ifd.score(exs)["ifd"]


def old_path_scores(model, tok, exs):
    """Today's main: one call per variant, batches of 8 sequences (≤ 8 × 512 tokens)."""
    from instructmine.nll import conversation_nll

    cond = conversation_nll(model, tok, [conversation(e, "conditional") for e in exs], batch_size=8)
    alone = conversation_nll(
        model, tok, [conversation(e, "response_only") for e in exs], batch_size=8
    )
    return (
        np.exp([c.mean for c in cond]),
        np.array([c.mean / a.mean for c, a in zip(cond, alone, strict=True)]),
    )


def check_against_old_and_reference(model_name, records, **params):
    model, tok = load_causal_lm(model_name)
    model.eval()
    exs = examples(records)
    got_ppl, got_ifd = joint_scores(model_name, exs, **params)
    old_ppl, old_ifd = old_path_scores(model, tok, exs)
    np.testing.assert_allclose(got_ppl, old_ppl, rtol=REL)
    np.testing.assert_allclose(got_ifd, old_ifd, rtol=REL)
    for e, p, f in zip(exs, got_ppl, got_ifd, strict=True):
        cond = plain_mean_nll(model, tok, conversation(e, "conditional"))
        alone = plain_mean_nll(model, tok, conversation(e, "response_only"))
        assert p == pytest.approx(math.exp(cond), rel=REL), e.id
        assert f == pytest.approx(cond / alone, rel=REL), e.id


@pytest.mark.parametrize("batch_tokens", [1, 64, 4096])
def test_joint_token_budget_pass_equals_old_path_tiny(tiny_llama_dir, batch_tokens):
    """Budgets from one sequence a batch to everything in one batch give the same scores."""
    check_against_old_and_reference(
        tiny_llama_dir, alpaca_records(12) + EDGE_CASES, batch_tokens=batch_tokens
    )


@pytest.mark.slow
def test_joint_token_budget_pass_equals_old_path_smollm2():
    recs = [r for r in alpaca_records(30) if len(r["messages"][-1]["content"]) < 300][:5]
    check_against_old_and_reference("smollm2-135m-instruct", recs)


def test_perplexity_computes_ifds_pass_in_the_same_call(tiny_llama_dir, count_nll):
    """With IFD in the run, perplexity's call carries both variants; IFD then computes nothing."""
    exs = examples(alpaca_records(6))
    state = RunState()
    ppl = create("perplexity", model=str(tiny_llama_dir))
    ifd = create("ifd", model=str(tiny_llama_dir))
    ppl.setup(state)
    ifd.setup(state)
    ppl.score(exs)
    assert count_nll == [2 * len(exs)]
    ifd.score(exs)
    assert count_nll == [2 * len(exs)]


def test_perplexity_alone_computes_only_its_variant(tiny_llama_dir, count_nll):
    exs = examples(alpaca_records(6))
    ppl = create("perplexity", model=str(tiny_llama_dir))
    ppl.setup(RunState())
    ppl.score(exs)
    assert count_nll == [len(exs)]


def test_token_budget_batches_and_head_chunks_keep_values(tiny_llama_dir, monkeypatch):
    """No row cap + a small token budget + a 3-position LM-head chunk = batch-1 values."""
    import instructmine.nll as nll

    model, tok = load_causal_lm(tiny_llama_dir)
    encs = [
        encode(tok, conversation(e, "conditional"), train_on="last_assistant")
        for e in examples(alpaca_records(8))
    ]
    one = nll.encoded_nll(model, encs, batch_size=1, share_prefix=False)
    monkeypatch.setattr(nll, "HEAD_CHUNK", 3)
    budget = nll.encoded_nll(model, encs, batch_size=None, batch_tokens=300)
    for a, b in zip(one, budget, strict=True):
        assert a.n_tokens == b.n_tokens
        assert b.sum_nll == pytest.approx(a.sum_nll, rel=1e-5)
    with pytest.raises(ValueError, match="batch_size or batch_tokens"):
        nll.encoded_nll(model, encs, batch_size=None)


def test_length_batches_without_a_row_cap():
    from instructmine.nll import length_batches

    assert length_batches([100, 90, 50, 50, 10], None, 200) == [(0, 2), (2, 5)]
    assert length_batches([300, 10], None, 200) == [(0, 1), (1, 2)]


def test_knn_token_budget_batches_equal_plain_encoding(tiny_st_dir):
    exs = examples(alpaca_records(20))
    ind = create("knn_3", model=str(tiny_st_dir), batch_tokens=40)
    ind.setup()
    got = ind.embed(exs)
    want = ind._enc.encode(
        [e.response for e in exs], batch_size=1, normalize_embeddings=True, convert_to_numpy=True
    )
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert ind.embed([]).shape == (0, want.shape[1])


def test_int8_path_runs_and_is_recorded_in_the_score_file(tiny_llama_dir, tmp_path):
    pool = write_pool(tmp_path / "pool.parquet", alpaca_records(10))
    params = {"model": str(tiny_llama_dir)}
    fp32 = [create(n, **params) for n in ("perplexity", "ifd")]
    int8 = [create(n, precision="int8", **params) for n in ("perplexity", "ifd")]
    assert fp32[0].cache_key() != int8[0].cache_key()
    a = run_local(pool, fp32, tmp_path / "fp32", progress=False)
    b = run_local(pool, int8, tmp_path / "int8", progress=False)
    for name in ("perplexity", "ifd"):
        x = pq.read_table(a[name]).column(name).to_numpy()
        y = pq.read_table(b[name]).column(name).to_numpy()
        assert np.isfinite(y).all() and not np.array_equal(x, y)  # quantised, so not bit-equal
        np.testing.assert_allclose(y, x, rtol=0.1)
        meta = json.loads(pq.read_schema(b[name]).metadata[META_KEY])
        assert meta["params"]["precision"] == "int8"
        meta = json.loads(pq.read_schema(a[name]).metadata[META_KEY])
        assert meta["params"]["precision"] == "fp32"


def test_int8_copy_leaves_the_fp32_model_alone(tiny_llama_dir):
    import torch

    from instructmine.indicators.causal import scoring_model

    state = RunState()
    fp32 = create("perplexity", model=str(tiny_llama_dir))
    int8 = create("perplexity", model=str(tiny_llama_dir), precision="int8")
    model, _ = scoring_model(state, fp32.params)
    quantised, _ = scoring_model(state, int8.params)
    assert quantised is scoring_model(state, int8.params)[0]  # made once a run
    layer, qlayer = model.model.layers[0], quantised.model.layers[0]
    assert isinstance(layer.self_attn.q_proj, torch.nn.Linear)
    assert not isinstance(qlayer.self_attn.q_proj, torch.nn.Linear)  # quantised
    assert isinstance(qlayer.mlp.down_proj, torch.nn.Linear)  # kept fp32 (outliers)
    assert isinstance(quantised.get_output_embeddings(), torch.nn.Linear)


def test_rules_fitted_before_the_new_parameters_still_match_fp32_scores(tmp_path):
    """The shipped proxy rule records no ``precision``/``batch_tokens``: fp32 scores made now
    match it, int8 scores are reported as made with other parameters."""
    from instructmine.rule.apply import param_mismatches
    from instructmine.rule.rules import load_rule

    rule = load_rule("smollm2-proxy")
    for precision, expected in [("fp32", {}), ("int8", {"precision": ["fp32", "int8"]})]:
        folder = tmp_path / precision
        folder.mkdir()
        provenance = {}
        for name, params in rule.score_params().items():
            extra = {"precision": precision} if name in ("perplexity", "ifd") else {}
            provenance[name] = create(name, **params, **extra).provenance()
        (folder / "scores.json").write_text(json.dumps({"provenance": provenance}))
        got = param_mismatches(rule, folder)
        assert got == {c: expected for c in ("perplexity", "ifd") if expected and c in got}
        if expected:
            assert got  # at least one causal column the rule uses is flagged
