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

Speed: a batch's texts are joined with NUL separators (ASCII texts and the others in two
groups), lower-cased, encoded and translated by C-level calls over each join (deleted characters
become byte 0xFF, which never occurs in UTF-8; multi-byte Unicode whitespace and dashes are
replaced at the byte level); a numba kernel then splits the buffer into tokens, interns them in
a hash table (hash equality is confirmed byte by byte, so results are exact) and runs both
passes. ``mtld_of_tokens`` is the plain-Python reference the kernel is tested against.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from functools import cache

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
# ASCII bytes only: bytes >= 0x80 are parts of UTF-8 sequences and pass through unchanged.
_BYTE_TABLE = bytes(
    b
    if b >= 0x80
    else b + 32
    if 65 <= b <= 90  # A-Z -> a-z (the ASCII half of lower-casing)
    else 0xFF
    if chr(b) in _DELETE
    else 0x20
    if (chr(b) in WHITESPACE or chr(b) in string.punctuation)
    else b
    for b in range(256)
)


# Non-ASCII characters the rule maps, as UTF-8 byte sequences (UTF-8 is self-synchronising, so
# a sequence can only match at a character boundary): whitespace -> space, dashes -> deleted.
_MULTIBYTE = [
    (c.encode("utf-8"), b" " if c in WHITESPACE else b"\xff")
    for c in WHITESPACE + _DELETE
    if not c.isascii()
]


def _normalise_group(texts: list[str]) -> tuple[bytes, np.ndarray]:
    """Normalise texts in one pass over their NUL-joined concatenation.

    Returns the bytes (texts separated by NUL) and each text's byte length. NUL is neither cased
    nor case-ignorable, so ``lower()`` of the join equals the join of each ``lower()`` (Greek
    final sigma included). A text that itself holds NUL is normalised alone.
    """
    if not texts:
        return b"", np.zeros(0, dtype=np.int64)
    joined = "\x00".join(texts)
    if len(texts) > 1 and joined.count("\x00") != len(texts) - 1:
        parts = [_normalise_group([t])[0] for t in texts]
        return b"\x00".join(parts), np.array([len(p) for p in parts], dtype=np.int64)
    raw = joined.lower().encode("utf-8").translate(_BYTE_TABLE)
    if not joined.isascii():
        for seq, repl in _MULTIBYTE:
            if seq in raw:
                raw = raw.replace(seq, repl)
    if len(texts) == 1:
        return raw, np.array([len(raw)], dtype=np.int64)
    seps = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 0)
    bounds = np.concatenate([[-1], seps, [len(raw)]])
    return raw, np.diff(bounds) - 1


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
    is_ascii = np.fromiter(map(str.isascii, texts), dtype=bool, count=len(texts))
    # ASCII texts and the others in two groups: lower() is much faster on an all-ASCII string
    groups = [np.flatnonzero(is_ascii), np.flatnonzero(~is_ascii)]
    blobs, lengths = [], np.zeros(len(texts), dtype=np.int64)
    starts = np.zeros(len(texts), dtype=np.int64)
    offset = 0
    for group, idx in enumerate(groups):
        if not len(idx):
            continue
        chosen = [texts[i] for i in idx]
        if group == 0:  # ASCII: lower/translate keep every text's length, no separators needed
            raw = "".join(chosen).lower().encode("ascii").translate(_BYTE_TABLE)
            lens = np.fromiter(map(len, chosen), dtype=np.int64, count=len(chosen))
            starts[idx] = offset + np.cumsum(lens) - lens
        else:
            raw, lens = _normalise_group(chosen)
            # each text is followed by one separator byte (or the end of the group)
            starts[idx] = offset + np.cumsum(lens + 1) - (lens + 1)
        lengths[idx] = lens
        blobs.append(raw)
        offset += len(raw) + 1
    data = np.frombuffer(b"\x20".join(blobs) + b"\x20", dtype=np.uint8)
    ends = starts + lengths
    return _kernel()(data, starts, ends, float(threshold))


class MTLDParams(IndicatorParams):
    """Parameters of ``mtld``."""

    threshold: float = Field(0.72, gt=0, lt=1, description="factor TTR threshold")


@register
class MTLD(Indicator):
    """Lexical diversity of the response (McCarthy & Jarvis 2010, forward/backward mean)."""

    registry_name = "mtld"
    Params = MTLDParams
    description = "MTLD lexical diversity of the response (threshold 0.72, fwd/bwd mean)"

    def setup(self) -> None:
        _kernel()

    def sort_key(self, examples: Sequence[Example]) -> np.ndarray:
        return np.zeros(len(examples), dtype=np.int64)  # cost is linear; no sorting needed

    def score(self, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        texts = [e.response for e in examples]
        return {"mtld": mtld_batch(texts, self.params.threshold)}
