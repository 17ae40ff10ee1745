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

Speed: a batch's ASCII texts are lower-cased and translated in one C-level call over the joined
text (deleted characters become byte 0xFF, which never occurs in UTF-8), other texts are lower-cased
and encoded one by one (the kernel maps multi-byte Unicode whitespace and dashes); a numba
kernel then splits the UTF-8 buffer into tokens, interns them in
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
    else 0xFF
    if chr(b) in _DELETE
    else 0x20
    if (chr(b) in WHITESPACE or chr(b) in string.punctuation)
    else b
    for b in range(256)
)


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
    """Compile (once; numba caches to disk) the batch kernel."""
    from numba import njit

    @njit(cache=True)
    def one_pass(ids, n, n_types, threshold, reverse, stamp):
        stamp[:n_types] = -1
        seg = 0
        types = 0
        count = 0
        factors = 0.0
        ttr = 1.0
        for k in range(n):
            w = ids[n - 1 - k] if reverse else ids[k]
            count += 1
            if stamp[w] != seg:
                stamp[w] = seg
                types += 1
            ttr = types / count
            if ttr <= threshold:
                count = 0
                types = 0
                seg += 1
                factors += 1
        if count > 0:
            factors += (1 - ttr) / (1 - threshold)
        if factors == 0:
            whole = n_types / n
            if whole == 1:
                factors += 1
            else:
                factors += (1 - whole) / (1 - threshold)
        return n / factors

    @njit(cache=True)
    def batch(data, starts, ends, threshold):
        # Bytes 0xFF (never in UTF-8) are deleted characters; 0x20 separates tokens.
        n_texts = len(starts)
        out = np.empty(n_texts, dtype=np.float64)
        longest = 1
        for t in range(n_texts):
            longest = max(longest, ends[t] - starts[t])
        cap = longest // 2 + 2
        w_start = np.empty(cap, dtype=np.int64)
        w_len = np.empty(cap, dtype=np.int64)
        ids = np.empty(cap, dtype=np.int64)
        size = 1
        while size < 2 * cap:
            size *= 2
        table = np.empty(size, dtype=np.int64)  # slot -> first token index with that word
        hashes = np.empty(cap, dtype=np.uint64)
        buf = np.empty(longest, dtype=np.uint8)
        stamp = np.empty(cap, dtype=np.int64)
        for t in range(n_texts):
            # compact the text: drop deleted bytes
            m = 0
            i = starts[t]
            end = ends[t]
            while i < end:
                b = data[i]
                if b == 255:  # deleted character
                    i += 1
                    continue
                if b < 128:
                    buf[m] = b
                    m += 1
                    i += 1
                    continue
                # multi-byte UTF-8: Unicode whitespace -> space, en/em dash -> deleted
                step = 1
                out_b = -1  # -1: copy, 32: space, -2: delete
                if b == 0xC2 and i + 1 < end:
                    c = data[i + 1]
                    if c == 0x85 or c == 0xA0:
                        step, out_b = 2, 32
                elif b == 0xE1 and i + 2 < end:
                    if data[i + 1] == 0x9A and data[i + 2] == 0x80:
                        step, out_b = 3, 32
                elif b == 0xE2 and i + 2 < end:
                    c1 = data[i + 1]
                    c2 = data[i + 2]
                    if c1 == 0x80:
                        if c2 <= 0x8A or c2 == 0xA8 or c2 == 0xA9 or c2 == 0xAF:
                            step, out_b = 3, 32
                        elif c2 == 0x93 or c2 == 0x94:
                            step, out_b = 3, -2
                    elif c1 == 0x81 and c2 == 0x9F:
                        step, out_b = 3, 32
                elif b == 0xE3 and i + 2 < end and data[i + 1] == 0x80 and data[i + 2] == 0x80:
                    step, out_b = 3, 32
                if out_b == -1:
                    buf[m] = b
                    m += 1
                elif out_b == 32:
                    buf[m] = 32
                    m += 1
                i += step
            n = 0
            i = 0
            while i < m:
                while i < m and buf[i] == 32:
                    i += 1
                if i >= m:
                    break
                s = i
                h = np.uint64(14695981039346656037)
                while i < m and buf[i] != 32:
                    h = (h ^ np.uint64(buf[i])) * np.uint64(1099511628211)
                    i += 1
                w_start[n] = s
                w_len[n] = i - s
                hashes[n] = h
                n += 1
            if n == 0:
                out[t] = 0.0
                continue
            tsize = 1
            while tsize < 2 * n:
                tsize *= 2
            mask = np.uint64(tsize - 1)
            table[:tsize] = -1
            n_types = 0
            for j in range(n):
                slot = hashes[j] & mask
                while True:
                    k = table[slot]
                    if k < 0:
                        table[slot] = j
                        ids[j] = n_types
                        n_types += 1
                        break
                    if hashes[k] == hashes[j] and w_len[k] == w_len[j]:
                        same = True
                        for q in range(w_len[j]):
                            if buf[w_start[k] + q] != buf[w_start[j] + q]:
                                same = False
                                break
                        if same:
                            ids[j] = ids[k]
                            break
                    slot = (slot + np.uint64(1)) & mask
            fwd = one_pass(ids, n, n_types, threshold, False, stamp)
            bwd = one_pass(ids, n, n_types, threshold, True, stamp)
            out[t] = (fwd + bwd) / 2
        return out

    return batch


def mtld_batch(texts: Sequence[str], threshold: float = 0.72) -> np.ndarray:
    """MTLD of many texts at once (fast path; equal to ``mtld_of_tokens(tokens(t))``)."""
    if not 0 < threshold < 1:
        raise ValueError(f"MTLD threshold must be in (0, 1), got {threshold}")
    texts = list(texts)
    is_ascii = np.fromiter(map(str.isascii, texts), dtype=bool, count=len(texts))
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    if is_ascii.all():  # the common case: one C-level pass over the joined batch
        blob = "".join(texts).lower().encode("ascii").translate(_BYTE_TABLE)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        return _kernel()(np.frombuffer(blob, dtype=np.uint8), starts, ends, float(threshold))
    ascii_idx = np.flatnonzero(is_ascii)
    other_idx = np.flatnonzero(~is_ascii)
    # ASCII texts: one lower/translate over the joined batch (lengths are preserved: deleted
    # characters become 0xFF, which the kernel skips).
    ascii_blob = "".join([texts[i] for i in ascii_idx]).lower().encode("ascii")
    ascii_blob = ascii_blob.translate(_BYTE_TABLE)
    others = [texts[i].lower().encode("utf-8").translate(_BYTE_TABLE) for i in other_idx]
    lengths[other_idx] = [len(b) for b in others]
    order = np.concatenate([ascii_idx, other_idx])
    ends_in_order = np.cumsum(lengths[order])
    starts = np.empty(len(texts), dtype=np.int64)
    ends = np.empty(len(texts), dtype=np.int64)
    ends[order] = ends_in_order
    starts[order] = ends_in_order - lengths[order]
    data = np.frombuffer(ascii_blob + b"".join(others), dtype=np.uint8)
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
