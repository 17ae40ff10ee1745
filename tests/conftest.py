"""Shared test fixtures: tiny models built in-process, and the path of the shared data sets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Set before torch is imported (by any test or subprocess): see instructmine/cli/__init__.py.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ray_cluster import ray_cluster  # noqa: F401  (started only by the Ray tests)
from s3_server import s3_server  # noqa: F401  (started only by the object-storage tests)
from shared_paths import FIXTURES, REPO, SHARED_DATA, shared_data_or_skip  # noqa: F401


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    """The suite's own ``$INSTRUCTMINE_CACHE``: what tests leave behind (fingerprints of their
    temporary folders, eval losses, RDS+ vectors, trunks) goes to a session folder, not the
    user's cache. Converted models and benchmark files are linked from the user's cache, so
    they are converted once per machine, not once per run of the suite."""
    from instructmine.models import cache_dir

    user = cache_dir()
    root = tmp_path_factory.mktemp("instructmine-cache")
    for name in ("models", "benchmarks"):
        (user / name).mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(user / name, target_is_directory=True)
    saved = os.environ.get("INSTRUCTMINE_CACHE")
    os.environ["INSTRUCTMINE_CACHE"] = str(root)
    yield root
    if saved is None:
        os.environ.pop("INSTRUCTMINE_CACHE", None)
    else:
        os.environ["INSTRUCTMINE_CACHE"] = saved


@pytest.fixture(autouse=True)
def _restore_environment():
    """Undo what a test's in-process CLI call put in ``os.environ`` (the CLI's quiet mode and
    piped width set variables for the processes it starts): later subprocesses of other tests
    must see the environment the suite started with."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


# ChatML, as SmolLM2-Instruct uses (without its default system prompt, to keep sequences short).
CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_CORPUS = [
    "Give three tips for staying healthy. Eat a balanced diet, exercise regularly and sleep well.",
    "Write a Python function that adds two numbers.\n\ndef add(a, b):\n    return a + b",
    "What is the capital of France? The capital of France is Paris.",
    "Translate 'good morning' into Spanish. Buenos días.",
    "Summarize the article in one sentence. The article argues that data quality matters.",
    "Classify the sentiment: I loved this film! Positive.",
    "user assistant system Yes No question response dialogue history coherent natural",
] * 20


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """A 512-token byte-level BPE tokenizer trained in-process, with a ChatML chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        unk_token="<|endoftext|>",
        pad_token="<pad>",
    )
    fast.chat_template = CHATML
    return fast


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory, tiny_tokenizer) -> Path:
    """A folder holding a tiny randomly initialised LlamaForCausalLM and its tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tiny_tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tiny_tokenizer.bos_token_id,
        eos_token_id=tiny_tokenizer.eos_token_id,
        pad_token_id=tiny_tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(cfg)
    out = tmp_path_factory.mktemp("tiny_llama")
    model.save_pretrained(out)
    tiny_tokenizer.save_pretrained(out)
    return out
