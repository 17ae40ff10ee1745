"""MTLD equals the PyPI reference (lexicalrichness) and its own plain-Python definition."""

from __future__ import annotations

import gzip
import json
import random
import string
import sys

import pytest
from helpers_indicators import alpaca_records, shared_data
from lexicalrichness import LexicalRichness

from instructmine.indicators.mtld import WHITESPACE, mtld_batch, mtld_of_tokens, tokens


def reference(text: str, threshold: float = 0.72) -> float:
    return LexicalRichness(text).mtld(threshold=threshold)


def test_whitespace_table_is_every_isspace_character():
    assert set(WHITESPACE) == {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}


def test_tokens_match_reference_tokenizer():
    from lexicalrichness.lexicalrichness import preprocess, tokenize

    text = "Hello, WORLD! It's 2024 — a well-known e-mail:\u00a0test\u3000ok… 42"
    assert tokens(text) == tokenize(preprocess(text))


def test_equals_lexicalrichness_on_500_real_responses():
    data = shared_data()
    with gzip.open(data / "alpagasus" / "random_9k.json.gz", "rt", encoding="utf-8") as fh:
        records = json.load(fh)
    texts = [r["output"] for r in records if tokens(r["output"])][:500]
    assert len(texts) == 500
    ours = mtld_batch(texts)
    ref = [reference(t) for t in texts]
    assert list(ours) == ref  # identical floats, not approximately equal


def test_equals_lexicalrichness_on_fixture_responses():
    texts = [r["messages"][-1]["content"] for r in alpaca_records(30)]
    assert list(mtld_batch(texts)) == [reference(t) for t in texts]
    for threshold in (0.6, 0.8):
        assert list(mtld_batch(texts, threshold)) == [reference(t, threshold) for t in texts]


def test_batch_equals_each_text_alone():
    """The kernel's hash table is shared by a batch's texts and never cleared: no leaks."""
    texts = [r["messages"][-1]["content"] for r in alpaca_records(30)]
    texts += ["internationalization internationalization", "internationalization other"]
    alone = [mtld_batch([t])[0] for t in texts]
    assert list(mtld_batch(texts)) == alone
    assert list(mtld_batch(texts[::-1])) == alone[::-1]


def test_kernel_equals_plain_python_on_adversarial_unicode():
    rng = random.Random(7)
    alphabet = (
        list("abcAB")
        + list(string.punctuation)
        + list("0123456789")
        + list(WHITESPACE)
        + ["–", "—", "İ", "ß", "É", "é", "こ", "🙂", "\u200b", "\u00ad", "Σ", "\u212a", "Ω"]
    )
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120))) for _ in range(400)]
    texts += ["", "   ", "a", "a a", "a b c d e f", "x\u2028y\u3000x", "ab–cd—ef-gh"]
    texts += ["ΑΣ ΟΔΟΣ οδος ΑΣ", "\u212aelvin kelvin", "İstanbul istanbul ISTANBUL"]
    texts += ["nul\x00inside nul", "ΣΑΣ\x00ΣΑΣ"]
    # ASCII capitals next to uncased non-ASCII (lowered by the kernel's ASCII table only)
    texts += ["“Hello” WORLD — hello world’s", "Émile ÉMILE émile", "naïve NAÏVE Naïve 🙂 A a"]
    fast = mtld_batch(texts)
    for t, f in zip(texts, fast, strict=True):
        assert f == mtld_of_tokens(tokens(t)), repr(t)
        if tokens(t):
            assert f == reference(t), repr(t)


def test_text_without_words_is_zero_where_reference_raises():
    """The documented difference: no word tokens -> 0.0 here, ZeroDivisionError there."""
    for text in ("", "42.", "-- 3.14 --"):
        assert mtld_batch([text])[0] == 0.0
        with pytest.raises(ZeroDivisionError):
            reference(text)


def test_known_values():
    # all distinct: one factor, MTLD = number of tokens
    assert mtld_batch(["one two three four"])[0] == 4.0
    # "a a": TTR 1/2 <= 0.72 at the second token in both directions -> 2 tokens / 1 factor
    assert mtld_batch(["a a"])[0] == 2.0


def test_bad_threshold():
    with pytest.raises(ValueError, match="threshold"):
        mtld_batch(["a"], threshold=1.0)


@pytest.mark.parametrize("threshold", [0.72, 0.6, 0.8, 0.5, 1 / 3])
def test_integer_ttr_limits_equal_the_float_test(threshold):
    """The kernel's ``types <= limit[count]`` is the reference's ``types / count <= threshold``."""
    import numpy as np

    from instructmine.indicators.mtld_kernel import _ttr_limits

    limit = _ttr_limits(600, threshold)
    for count in range(1, 601):
        types = np.arange(count + 1)
        assert ((types / count) <= threshold).tolist() == (types <= limit[count]).tolist()
