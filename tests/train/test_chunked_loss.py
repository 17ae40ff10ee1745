"""The chunked LM-head loss and micro-batches: same values and gradients as the full-logits path."""

import pytest
import torch
import torch.nn.functional as F

from instructmine.chunked_ce import chunked_loss, chunked_nll, labelled_logits, labelled_nll
from instructmine.micro_batch import micro_batches
from instructmine.models import load_for_eval
from instructmine.train.config import TrainConfig
from instructmine.train.data import encode_conversations
from instructmine.train.eval_loss import eval_loss
from instructmine.train.run import train
from instructmine.train.trainer import labelled_loss

TOL = 1e-5


class WrappedHead(torch.nn.Module):
    """A head that is not a plain ``nn.Linear`` (as a LoRA-wrapped head is): checkpoint path."""

    def __init__(self, linear):
        super().__init__()
        self.linear = linear

    def forward(self, x):
        return self.linear(x)


def _close(a, b):
    assert torch.allclose(a, b, atol=TOL, rtol=TOL), (a - b).abs().max()


def _grads(hidden, head, targets, chunk):
    hidden = hidden.detach().clone().requires_grad_(True)
    head.zero_grad(set_to_none=True)
    if chunk is None:
        loss = F.cross_entropy(head(hidden).float(), targets, reduction="sum")
    else:
        loss = chunked_loss(hidden, head, targets, chunk)
    (loss * 0.37).backward()  # a non-unit upstream gradient (the 1 / n_items of the trainer)
    return loss.detach(), hidden.grad, [p.grad.clone() for p in head.parameters()]


@pytest.mark.parametrize("wrapped", [False, True])
@pytest.mark.parametrize("chunk", [1, 7, 16, 50])
def test_chunked_loss_value_and_gradients_equal_the_full_loss(chunk, wrapped):
    torch.manual_seed(0)
    linear = torch.nn.Linear(24, 301, bias=True)
    head = WrappedHead(linear) if wrapped else linear
    hidden, targets = torch.randn(45, 24), torch.randint(0, 301, (45,))
    full = _grads(hidden, head, targets, None)
    got = _grads(hidden, head, targets, chunk)
    _close(got[0], full[0])
    _close(got[1], full[1])
    assert len(got[2]) == len(full[2]) == 2
    for g, f in zip(got[2], full[2], strict=True):
        _close(g, f)


def test_frozen_head_gets_no_gradient_and_nll_matches():
    torch.manual_seed(1)
    head = torch.nn.Linear(16, 97, bias=False).requires_grad_(False)
    hidden, targets = torch.randn(30, 16, requires_grad=True), torch.randint(0, 97, (30,))
    chunked_loss(hidden, head, targets, 4).backward()
    assert head.weight.grad is None and hidden.grad is not None
    with torch.no_grad():
        full = F.cross_entropy(head(hidden), targets, reduction="none")
        _close(chunked_nll(hidden, head, targets, 4), full)
        _close(chunked_nll(hidden, head, targets, 0), full)


@pytest.fixture(scope="module")
def model_and_batch(tiny_tokenizer, tiny_llama_dir, make_conversation):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir, attn_implementation="sdpa")
    model.eval()  # no dropout: the paths must agree exactly
    convs = [(str(i), make_conversation(i)) for i in (2, 5, 9, 13, 21, 30)]
    records = encode_conversations(tiny_tokenizer, convs, "chat", None).records
    width = max(len(r.input_ids) for r in records)
    ids = torch.full((len(records), width), tiny_tokenizer.pad_token_id)
    labels = torch.full((len(records), width), -100)
    mask = torch.zeros((len(records), width), dtype=torch.long)
    for i, r in enumerate(records):
        ids[i, : len(r.input_ids)] = torch.tensor(r.input_ids)
        labels[i, : len(r.labels)] = torch.tensor(r.labels)
        mask[i, : len(r.input_ids)] = 1
    assert len({len(r.input_ids) for r in records}) > 1
    return model, {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _model_grads(model, batches, n_items, chunk):
    model.zero_grad(set_to_none=True)
    total = 0.0
    for b in batches:
        loss, _ = labelled_loss(model, b, n_items, chunk)
        loss.backward()
        total += float(loss.detach())
    return total, {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("chunk", [5, 64])
def test_trainer_loss_chunked_equals_full_on_a_tiny_llama(model_and_batch, chunk):
    model, batch = model_and_batch
    n = int((batch["labels"][:, 1:] != -100).sum())
    assert n > 64  # several chunks
    full_loss, full = _model_grads(model, [batch], n, 0)
    loss, got = _model_grads(model, [batch], n, chunk)
    assert abs(loss - full_loss) < TOL
    assert full.keys() == got.keys() and "model.embed_tokens.weight" in full  # tied head trains
    for name in full:
        _close(got[name], full[name])


def test_micro_batches_accumulate_to_the_whole_batch_gradient(model_and_batch):
    model, batch = model_and_batch
    n = int((batch["labels"][:, 1:] != -100).sum())
    width = batch["input_ids"].shape[1]
    parts = micro_batches(batch, 2 * width)
    assert len(parts) == 3 and sum(p["input_ids"].shape[0] for p in parts) == 6
    assert any(p["input_ids"].shape[1] < width for p in parts)  # padding dropped
    assert all(p["input_ids"].numel() <= 2 * width for p in parts)
    full_loss, full = _model_grads(model, [batch], n, 0)
    loss, got = _model_grads(model, parts, n, 5)
    assert abs(loss - full_loss) < TOL
    for name in full:
        _close(got[name], full[name])
    assert micro_batches(batch, 0) == [batch]


def test_chunked_eval_nll_equals_full_logits(model_and_batch):
    model, batch = model_and_batch
    with torch.no_grad():
        logits, targets, rows = labelled_logits(model, batch["input_ids"], None, batch["labels"])
        full = F.cross_entropy(logits, targets, reduction="none")
        got, got_targets, got_rows = labelled_nll(
            model, batch["input_ids"], None, batch["labels"], chunk=7
        )
    assert torch.equal(got_targets, targets) and torch.equal(got_rows, rows)
    _close(got, full)


@pytest.mark.parametrize("method", ["lora", "full"])
def test_training_with_chunks_and_micro_batches_reproduces_the_old_eval_loss(
    tiny_llama_dir, train_pool, eval_pool, tmp_path, method
):
    def run(name, **memory):
        cfg = TrainConfig(
            model=str(tiny_llama_dir),
            method=method,
            max_length=48,
            seed=0,
            max_records=32,
            lora={"dropout": 0.0},  # dropout masks are drawn per micro-batch: keep them out
            sft={"learning_rate": 3e-3, "max_steps": 4},
            **memory,
        )
        result = train(train_pool, tmp_path / name, cfg, progress=False)
        model, tok, _ = load_for_eval(tmp_path / name)
        return result, eval_loss(model, tok, eval_pool).mean_loss

    old, old_eval = run("old", loss_chunk=0, micro_batch_tokens=0)
    new, new_eval = run("new", loss_chunk=8, micro_batch_tokens=64)
    base = eval_loss(*load_for_eval(str(tiny_llama_dir))[:2], eval_pool).mean_loss
    assert abs(base - old_eval) > 0.01  # training moved the eval loss, so the check has teeth
    assert abs(new_eval - old_eval) < 1e-4
    assert new.loss_curve == pytest.approx(old.loss_curve, abs=1e-4)
    assert new.tokens == old.tokens
