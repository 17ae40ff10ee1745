"""``mtld``: Measure of Textual Lexical Diversity of the response (McCarthy & Jarvis 2010).

Definition (identical to PyPI ``lexicalrichness`` 0.5.1, ``LexicalRichness(text).mtld(0.72)``):

- Tokens: lower-case the text, delete ASCII digits and the dashes ``-``, ``–``, ``—``, replace every
  other ASCII punctuation character (``string.punctuation``) by a space, split on whitespace.
- A pass walks the tokens, tracking the type-token ratio (TTR) of the current segment; when the
  TTR falls to the threshold (``<= 0.72``) a factor is counted and a new segment starts. The
  remainder adds a partial factor ``(1 - TTR) / (1 - threshold)``; a text whose TTR never falls
  (all tokens distinct) counts one factor. The pass's value is ``tokens / factors``.
- MTLD is the mean of a forward and a backward pass.

One deliberate difference: a response with no word tokens (empty, or only digits/punctuation,
e.g. ``"42."``) has MTLD ``0.0`` here (zero tokens, so zero mean factor length), where
``lexicalrichness`` raises ``ZeroDivisionError``.

Speed (``benchmarks/score.py --parts mtld``): ``encode_batch`` turns a batch into one UTF-8
buffer with C-level calls (ASCII texts joined and encoded at once; a non-ASCII text is
lower-cased in Python only when its non-ASCII characters are cased, otherwise ASCII
lower-casing in the kernel gives the same result); the numba kernel (``mtld_kernel``) then
tokenises without data-dependent branches, interns tokens in a hash table (exact: long tokens
are compared byte by byte) and runs both passes. ``mtld_of_tokens`` is the plain-Python
reference the kernel is tested against.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from functools import cache
from itertools import compress

import numpy as np
from pydantic import Field

from instructmine.indicators.base import Example, Indicator, IndicatorParams
from instructmine.indicators.registry import register

#: Every character for which ``str.isspace()`` is true (what ``str.split()`` splits on).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_DELETE = "0123456789-\u2013\u2014"
_STR_TABLE = str.maketrans(
    {
        **{c: " " for c in WHITESPACE},
        **{c: " " for c in string.punctuation},
        **{c: None for c in _DELETE},
    }
)
_ASCII = bytes(range(128))


def _code_table() -> np.ndarray:
    """Per byte: the lower-cased byte | 256 if it is part of a token, 512 if it separates tokens.

    Bytes >= 0x80 (parts of UTF-8 sequences) are token bytes; deleted characters get 0.
    """
    code = np.zeros(256, dtype=np.uint64)
    for b in range(256):
        ch = chr(b)
        if b >= 0x80:
            code[b] = b | 256
        elif ch in _DELETE:  # before punctuation: "-" is deleted, not a separator
            continue
        elif ch in WHITESPACE or ch in string.punctuation:
            code[b] = 512
        else:
            code[b] = ord(ch.lower()) | 256
    return code


def _multibyte_tables() -> tuple[np.ndarray, ...]:
    """The non-ASCII characters the rule maps, as UTF-8 byte sequences for the kernel.

    UTF-8 is self-synchronising, so a sequence can only match at a character boundary. Returns
    (lead-byte mask, sequences padded to 4 bytes, their lengths, whether each is whitespace).
    """
    chars = [c for c in WHITESPACE + _DELETE if not c.isascii()]
    seqs = np.zeros((len(chars), 4), dtype=np.uint8)
    for k, c in enumerate(chars):
        raw = c.encode("utf-8")
        seqs[k, : len(raw)] = list(raw)
    lens = np.array([len(c.encode("utf-8")) for c in chars], dtype=np.int64)
    space = np.array([c in WHITESPACE for c in chars], dtype=np.bool_)
    lead = np.zeros(256, dtype=np.bool_)
    lead[seqs[:, 0]] = True
    return lead, seqs, lens, space


_CODE = _code_table()
_LEAD, _SEQS, _SEQ_LENS, _SEQ_SPACE = _multibyte_tables()


def _lower_non_ascii(texts: list[str]) -> list[bytes]:
    """UTF-8 of non-ASCII texts, lower-cased in Python only where ASCII lower-casing is not enough.

    ``str.lower`` maps ASCII letters independently of context, so a text whose non-ASCII
    characters are all unchanged by ``lower()`` (checked on just those characters, which keeps
    the context-dependent final sigma: a lone ``Σ`` lowers) needs only the kernel's ASCII
    lower-casing. Checked for all texts at once through one NUL-joined buffer.
    """
    joined = "\x00".join(texts).encode("utf-8")
    parts = joined.split(b"\x00")
    if len(parts) != len(texts):  # a text holds NUL: check one by one
        parts = [t.encode("utf-8") for t in texts]
        only = [p.translate(None, _ASCII).decode("utf-8") for p in parts]
    else:  # the non-ASCII characters of every text, in one pass over the joined buffer
        only = joined.translate(None, _ASCII[1:]).decode("utf-8").split("\x00")
    return [
        t.lower().encode("utf-8") if o != o.lower() else p
        for t, p, o in zip(texts, parts, only, strict=True)
    ]


def encode_batch(texts: Sequence[str]) -> tuple[np.ndarray, ...]:
    """The kernel's input: (buffer, starts, ends, has-multibyte flags), see ``mtld_kernel``."""
    is_ascii = np.fromiter(map(str.isascii, texts), dtype=bool, count=len(texts))
    plain = list(compress(texts, is_ascii))
    other = _lower_non_ascii(list(compress(texts, ~is_ascii)))
    lengths = np.concatenate(
        [
            np.fromiter(map(len, plain), dtype=np.int64, count=len(plain)),
            np.fromiter(map(len, other), dtype=np.int64, count=len(other)),
        ]
    )
    order = np.concatenate([np.flatnonzero(is_ascii), np.flatnonzero(~is_ascii)])
    placed = np.cumsum(lengths + 1) - lengths - 1  # every text is followed by one space
    starts = np.empty(len(texts), dtype=np.int64)
    starts[order] = placed
    ends = np.empty(len(texts), dtype=np.int64)
    ends[order] = placed + lengths
    head = [" ".join(plain).encode("ascii")] if plain else []
    data = np.frombuffer(bytearray(b" ").join([*head, *other, b""]), dtype=np.uint8)  # writable
    return data, starts, ends, ~is_ascii


def tokens(text: str) -> list[str]:
    """The word tokens MTLD counts (see the module docstring)."""
    return text.lower().translate(_STR_TABLE).split()


def _one_pass(words: Sequence[object], n_types: int, threshold: float) -> float:
    terms: set[object] = set()
    count = 0
    factors = 0.0
    ttr = 1.0
    for w in words:
        count += 1
        terms.add(w)
        ttr = len(terms) / count
        if ttr <= threshold:
            count = 0
            terms = set()
            factors += 1
    if count > 0:
        factors += (1 - ttr) / (1 - threshold)
    if factors == 0:
        whole = n_types / len(words)
        factors += 1 if whole == 1 else (1 - whole) / (1 - threshold)
    return len(words) / factors


def mtld_of_tokens(words: Sequence[object], threshold: float = 0.72) -> float:
    """MTLD of a token sequence, pure Python (the readable reference of the fast kernel)."""
    if not words:
        return 0.0
    n_types = len(set(words))
    fwd = _one_pass(words, n_types, threshold)
    bwd = _one_pass(list(reversed(words)), n_types, threshold)
    return (fwd + bwd) / 2


@cache
def _kernel():
    """The compiled batch kernel (numba; compiled once, then loaded from numba's disk cache)."""
    from instructmine.indicators.mtld_kernel import batch

    return batch


def mtld_batch(texts: Sequence[str], threshold: float = 0.72) -> np.ndarray:
    """MTLD of many texts at once (fast path; equal to ``mtld_of_tokens(tokens(t))``)."""
    if not 0 < threshold < 1:
        raise ValueError(f"MTLD threshold must be in (0, 1), got {threshold}")
    texts = list(texts)
    if not texts:
        return np.zeros(0, dtype=np.float64)
    data, starts, ends, multibyte = encode_batch(texts)
    return _kernel()(
        data, starts, ends, multibyte, float(threshold), _CODE, _LEAD, _SEQS, _SEQ_LENS, _SEQ_SPACE
    )


class MTLDParams(IndicatorParams):
    """Parameters of ``mtld``."""

    threshold: float = Field(0.72, gt=0, lt=1, description="factor TTR threshold")


@register
class MTLD(Indicator):
    """Lexical diversity of the response (McCarthy & Jarvis 2010, forward/backward mean)."""

    registry_name = "mtld"
    Params = MTLDParams
    description = "MTLD lexical diversity of the response (threshold 0.72, fwd/bwd mean)"

    def load(self) -> None:
        _kernel()

    def sort_key(self, examples: Sequence[Example]) -> np.ndarray:
        return np.zeros(len(examples), dtype=np.int64)  # cost is linear; no sorting needed

    def score(self, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        texts = [e.response for e in examples]
        return {"mtld": mtld_batch(texts, self.params.threshold)}
