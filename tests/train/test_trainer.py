"""The trainer's loss: LM head at labelled positions only, equal across batch layouts."""

import pytest
import torch

from instructmine.prompting import IGNORE_INDEX
from instructmine.train.data import encode_conversations
from instructmine.train.trainer import labelled_loss, real_tokens


@pytest.fixture(scope="module")
def model_and_examples(tiny_tokenizer, tiny_llama_dir, make_conversation):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir, attn_implementation="sdpa")
    model.eval()
    convs = [(str(i), make_conversation(i)) for i in (3, 7, 11, 20)]
    pool = encode_conversations(tiny_tokenizer, convs, "chat", None)
    assert len({len(r.input_ids) for r in pool.records}) > 1  # ragged: padding matters
    return model, pool.records, tiny_tokenizer.pad_token_id


def _padded(records, pad_id):
    width = max(len(r.input_ids) for r in records)
    ids = torch.full((len(records), width), pad_id)
    labels = torch.full((len(records), width), IGNORE_INDEX)
    mask = torch.zeros((len(records), width), dtype=torch.long)
    for i, r in enumerate(records):
        n = len(r.input_ids)
        ids[i, :n] = torch.tensor(r.input_ids)
        labels[i, :n] = torch.tensor(r.labels)
        mask[i, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def _padding_free(records):
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    collate = DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)
    return collate([{"input_ids": r.input_ids, "labels": r.labels} for r in records])


def test_labelled_loss_equals_the_models_own_loss(model_and_examples):
    model, records, pad_id = model_and_examples
    batch = _padded(records, pad_id)
    with torch.no_grad():
        ours, n = labelled_loss(model, batch)
        reference = model(**batch).loss
    assert n == sum(sum(t != IGNORE_INDEX for t in r.labels[1:]) for r in records)
    assert ours.item() == pytest.approx(reference.item(), rel=1e-5)


def test_padding_free_batch_gives_the_padded_loss_without_cross_talk(model_and_examples):
    """Flattened sequences (position ids restart, no attention mask) on SDPA/eager attention
    must score exactly as separate padded rows: no token may attend across examples."""
    model, records, pad_id = model_and_examples
    with torch.no_grad():
        padded, _ = labelled_loss(model, _padded(records, pad_id))
        flat, _ = labelled_loss(model, _padding_free(records))
        # Reversing the order changes what precedes each example in the flat row.
        flipped, _ = labelled_loss(model, _padding_free(records[::-1]))
        # Control: the same flat row *without* position ids leaks across examples.
        leaky_batch = {k: v for k, v in _padding_free(records).items() if k == "input_ids"}
        leaky_batch["labels"] = _padding_free(records)["labels"]
        leaky, _ = labelled_loss(model, leaky_batch)
    assert flat.item() == pytest.approx(padded.item(), rel=1e-5)
    assert flipped.item() == pytest.approx(padded.item(), rel=1e-5)
    assert abs(leaky.item() - padded.item()) > 1e-4


def test_gradient_accumulation_normaliser(model_and_examples):
    model, records, pad_id = model_and_examples
    batch = _padded(records, pad_id)
    with torch.no_grad():
        mean, n = labelled_loss(model, batch)
        summed, _ = labelled_loss(model, batch, num_items_in_batch=torch.tensor(2 * n))
    assert summed.item() == pytest.approx(mean.item() / 2, rel=1e-6)


def test_real_tokens_counts_no_padding(model_and_examples):
    _, records, pad_id = model_and_examples
    total = sum(len(r.input_ids) for r in records)
    assert real_tokens(_padded(records, pad_id)) == total
    assert real_tokens(_padding_free(records)) == total
