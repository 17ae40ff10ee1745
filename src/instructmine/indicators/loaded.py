"""Models loaded once per process and shared by the indicators that use the same model.

``perplexity`` and ``ifd`` on the same causal LM share one copy; ``input_length`` and
``output_length`` share a tokenizer. Each Ray actor is its own process and loads its own copy.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def tokenizer(name: str) -> Any:
    """A tokenizer by alias, local folder or hub id."""
    from instructmine.models import load_tokenizer

    return load_tokenizer(name)


@cache
def causal_lm(name: str) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a causal LM in fp32, in eval mode."""
    from instructmine.models import load_causal_lm

    model, tok = load_causal_lm(name)
    model.eval()
    return model, tok


@cache
def seq2seq_lm(name: str) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of an encoder-decoder LM in fp32, in eval mode."""
    from instructmine.models import load_seq2seq_lm

    model, tok = load_seq2seq_lm(name)
    model.eval()
    return model, tok


@cache
def sequence_classifier(name: str) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a sequence-classification model in fp32, in eval mode."""
    from instructmine.models import load_sequence_classifier

    model, tok = load_sequence_classifier(name)
    model.eval()
    return model, tok


@cache
def sentence_encoder(name: str) -> Any:
    """A sentence-transformers encoder."""
    from instructmine.models import load_sentence_encoder

    return load_sentence_encoder(name)
