"""The loss mask the trainer receives, checked token by token, and the data manifest."""

import json

import pytest

from instructmine.prompting import IGNORE_INDEX
from instructmine.train.config import TrainConfig
from instructmine.train.data import encode_conversations, to_dataset, write_manifest
from instructmine.train.fit import sft_settings

SINGLE = [
    {"role": "user", "content": "Give three tips for staying healthy."},
    {"role": "assistant", "content": "Eat a balanced diet, exercise regularly and sleep well."},
]
MULTI = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "Paris."},
    {"role": "user", "content": "Translate 'good morning' into Spanish."},
    {"role": "assistant", "content": "Buenos días."},
]


def _runs(ids, labels):
    """Split a sequence into maximal runs of (labelled?, token ids)."""
    runs = []
    for tid, lab in zip(ids, labels, strict=True):
        flag = lab != IGNORE_INDEX
        if lab != IGNORE_INDEX:
            assert lab == tid  # a label is always the input token itself
        if runs and runs[-1][0] == flag:
            runs[-1][1].append(tid)
        else:
            runs.append((flag, [tid]))
    return runs


def _first_batch(tokenizer, model_dir, convs, tmp_path, **cfg):
    """The first collated batch of the real trainer, in dataset order."""
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig

    from instructmine.train.trainer import make_trainer_class

    config = TrainConfig(model=str(model_dir), group_by_length=False, **cfg)
    pool = encode_conversations(tokenizer, convs, "chat", config.max_length)
    settings = sft_settings(config, tmp_path, cuda=False)
    settings["train_sampling_strategy"] = "sequential"
    trainer = make_trainer_class()(
        model=AutoModelForCausalLM.from_pretrained(model_dir),
        args=SFTConfig(**settings),
        train_dataset=to_dataset(pool),
        processing_class=tokenizer,
    )
    return next(iter(trainer.get_train_dataloader()))


def _sequences(batch):
    """(input_ids, labels) of each example of a padded or padding-free batch."""
    ids, labels = batch["input_ids"], batch["labels"]
    if "position_ids" in batch and "attention_mask" not in batch:
        pos = batch["position_ids"][0].tolist()
        starts = [i for i, p in enumerate(pos) if p == 0] + [len(pos)]
        return [
            (ids[0, a:b].tolist(), labels[0, a:b].tolist())
            for a, b in zip(starts, starts[1:], strict=False)
        ]
    out = []
    for row in range(ids.shape[0]):
        n = int(batch["attention_mask"][row].sum())
        out.append((ids[row, :n].tolist(), labels[row, :n].tolist()))
    return out


@pytest.mark.parametrize("padding_free", [True, False])
def test_mask_token_by_token_single_and_multi_turn(
    tiny_tokenizer, tiny_llama_dir, tmp_path, padding_free
):
    batch = _first_batch(
        tiny_tokenizer,
        tiny_llama_dir,
        [("single", SINGLE), ("multi", MULTI)],
        tmp_path,
        padding_free=padding_free,
    )
    seqs = _sequences(batch)
    assert len(seqs) == 2
    decode = tiny_tokenizer.decode
    for (ids, labels), conv in zip(seqs, [SINGLE, MULTI], strict=True):
        runs = _runs(ids, labels)
        labelled = [decode(toks) for flag, toks in runs if flag]
        # Exactly the assistant turns are supervised, each with its end-of-turn marker.
        assistants = [m["content"] for m in conv if m["role"] == "assistant"]
        assert labelled == [f"{a}<|im_end|>\n" for a in assistants]
        # Every other token is masked: the prompt runs hold the system/user turns and the
        # template's role headers, and nothing of the assistant text.
        masked = "".join(decode(toks) for flag, toks in runs if not flag)
        for m in conv:
            if m["role"] == "assistant":
                assert m["content"] not in masked
            else:
                assert m["content"] in masked
        assert masked.endswith("<|im_start|>assistant\n")
        assert labels[0] == IGNORE_INDEX


def test_padding_free_batch_restarts_positions(tiny_tokenizer, tiny_llama_dir, tmp_path):
    convs = [("a", SINGLE), ("b", MULTI)]
    batch = _first_batch(tiny_tokenizer, tiny_llama_dir, convs, tmp_path, padding_free=True)
    assert batch["input_ids"].shape[0] == 1 and "attention_mask" not in batch
    n_single = len(tiny_tokenizer.apply_chat_template(SINGLE, tokenize=True)["input_ids"])
    pos = batch["position_ids"][0].tolist()
    assert pos[:n_single] == list(range(n_single))
    assert pos[n_single:] == list(range(len(pos) - n_single))


def test_truncation_keeps_start_and_drops_records_left_without_labels(tiny_tokenizer, tmp_path):
    long_prompt = [
        {"role": "user", "content": "question " * 200},
        {"role": "assistant", "content": "answer"},
    ]
    pool = encode_conversations(
        tiny_tokenizer, [("ok", SINGLE), ("long", long_prompt)], "chat", max_length=40
    )
    assert [r.id for r in pool.records] == ["ok"]
    assert pool.dropped == [{"id": "long", "reason": "no assistant token within max_length=40"}]
    full = encode_conversations(tiny_tokenizer, [("ok", SINGLE)], "chat", None).records[0]
    kept = pool.records[0]
    assert len(kept.input_ids) == min(40, len(full.input_ids))
    assert kept.input_ids == full.input_ids[: len(kept.input_ids)]

    src = tmp_path / "pool.parquet"
    src.write_bytes(b"stand-in bytes")
    manifest = write_manifest(tmp_path / "manifest.json", src, pool)
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert on_disk == manifest
    assert on_disk["ids"] == ["ok"] and on_disk["n_dropped"] == 1
    import hashlib

    assert on_disk["pool_sha256"] == hashlib.sha256(b"stand-in bytes").hexdigest()


def test_plain_template_masks_the_instruction(tiny_tokenizer):
    pool = encode_conversations(tiny_tokenizer, [("p", SINGLE)], "plain", None)
    rec = pool.records[0]
    runs = _runs(rec.input_ids, rec.labels)
    assert [tiny_tokenizer.decode(t) for f, t in runs if f] == [
        SINGLE[1]["content"] + tiny_tokenizer.eos_token
    ]
    assert tiny_tokenizer.decode([t for f, toks in runs if not f for t in toks]) == (
        SINGLE[0]["content"] + "\n\n"
    )
