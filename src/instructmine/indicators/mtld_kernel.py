"""The numba kernel behind ``mtld.mtld_batch`` (imported only when MTLD is set up).

Module-level ``njit(cache=True)`` functions, so the compiled code is cached on disk and later
processes load it instead of compiling again. ``error_model="numpy"`` drops the Python
zero-division checks (no division here can be by zero).

Input layout (built by ``mtld.encode_batch``): ``data`` holds every text's UTF-8 bytes, each
followed by one ASCII space; text ``t`` is ``data[starts[t]:ends[t]]``. A text with cased
non-ASCII characters arrives lower-cased by Python; for every other text lower-casing only has to
map ASCII letters, which happens here through ``code``.

``code[byte]`` packs what a byte is: bits 0-7 the (lower-cased) byte if it belongs to a token,
else 0; bit 8 set for a token byte; bit 9 set for a separator (whitespace, punctuation). A byte
with neither bit (digits, ``-``) is deleted: it neither ends a token nor joins it. Multi-byte
whitespace and dashes (``seqs``) are first overwritten in place by spaces / deleted bytes (same
length) in the texts flagged ``has_multibyte``.
"""

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def _rewrite_multibyte(data, start, end, lead, seqs, seq_lens, seq_space):
    for i in range(start, end):
        if not lead[data[i]]:
            continue
        for s in range(len(seq_lens)):
            size = seq_lens[s]
            if i + size > end:
                continue
            same = True
            for q in range(size):
                if data[i + q] != seqs[s, q]:
                    same = False
                    break
            if same:
                fill = 32 if seq_space[s] else 0x2D  # '-' is a deleted byte
                for q in range(size):
                    data[i + q] = fill
                break


@njit(cache=True, error_model="numpy")
def _ttr_limits(longest, threshold):
    """``limit[c]``: the largest type count ``v`` with ``v / c <= threshold`` in float64.

    The pass then compares integers instead of dividing at every token, with the very same
    outcome as the reference's ``len(terms) / count <= threshold`` (float division is monotone
    in the numerator, so the float test holds exactly for ``v <= limit[c]``).
    """
    limit = np.empty(longest + 1, dtype=np.int64)
    limit[0] = -1
    for c in range(1, longest + 1):
        v = int(threshold * c)
        while v + 1 <= c and (v + 1) / c <= threshold:
            v += 1
        while v >= 0 and v / c > threshold:
            v -= 1
        limit[c] = v
    return limit


@njit(cache=True, error_model="numpy", inline="always")
def _one_pass(ids, n, n_types, threshold, reverse, stamp, limit):
    stamp[:] = -1
    seg = 0
    types = 0
    count = 0
    factors = 0.0
    for k in range(n):
        w = ids[n - 1 - k] if reverse else ids[k]
        count += 1
        types += stamp[w] != seg
        stamp[w] = seg
        if types <= limit[count]:
            count = 0
            types = 0
            seg += 1
            factors += 1
    if count > 0:
        factors += (1 - types / count) / (1 - threshold)
    if factors == 0:
        whole = n_types / n
        if whole == 1:
            factors += 1
        else:
            factors += (1 - whole) / (1 - threshold)
    return n / factors


@njit(cache=True, error_model="numpy")
def batch(data, starts, ends, has_multibyte, threshold, code, lead, seqs, seq_lens, seq_space):
    """MTLD of every text in ``data`` (see the module docstring for the layout)."""
    n_texts = len(starts)
    out = np.empty(n_texts, dtype=np.float64)
    longest = 1
    for t in range(n_texts):
        longest = max(longest, ends[t] - starts[t])
        if has_multibyte[t]:
            _rewrite_multibyte(data, starts[t], ends[t], lead, seqs, seq_lens, seq_space)
    cap = longest // 2 + 2
    bounds = np.empty(cap + 1, dtype=np.int64)  # token j is buf[bounds[j]:bounds[j + 1]]
    words = np.empty(cap, dtype=np.uint64)  # a token's last (up to) 8 bytes, packed
    ids = np.empty(cap, dtype=np.int64)
    size = 1
    while size < 2 * cap:
        size *= 2
    slots = np.empty(size, dtype=np.int64)  # open-addressing table: slot -> first token index
    buf = np.empty(longest + 1, dtype=np.uint8)
    stamp = np.empty(cap, dtype=np.int64)
    limit = _ttr_limits(cap, threshold)
    prime = np.uint64(0x9E3779B97F4A7C15)
    for t in range(n_texts):
        # Tokenise without branches on the byte class (they would mispredict once per token):
        # every byte is stored, only token bytes advance m; a separator closes a non-empty token.
        m = 0
        n = 0
        first = 0
        w = np.uint64(0)
        for i in range(starts[t], ends[t] + 1):  # data[ends[t]] is a space
            k = code[data[i]]
            c = k & 255
            tok = (k >> 8) & 1
            sep = k >> 9
            buf[m] = c
            w = (w << np.uint64(8 * tok)) | np.uint64(c)
            m += tok
            bounds[n] = first
            words[n] = w
            n += sep & (m > first)
            first = m if sep else first
            w &= np.uint64(sep - 1)  # a separator starts the next token afresh
        bounds[n] = first
        if n == 0:
            out[t] = 0.0
            continue
        # Intern tokens: equal (length, packed bytes) is equality up to 8 bytes; longer tokens
        # are compared byte by byte, so the ids are exact.
        tsize = 1
        while tsize < 2 * n:
            tsize *= 2
        mask = np.uint64(tsize - 1)
        slots[:tsize] = -1
        n_types = 0
        for j in range(n):
            lj = bounds[j + 1] - bounds[j]
            wj = words[j]
            h = (wj ^ np.uint64(lj)) * prime
            slot = (h ^ (h >> np.uint64(32))) & mask
            while True:
                k = slots[slot]
                if k < 0:
                    slots[slot] = j
                    ids[j] = n_types
                    n_types += 1
                    break
                if words[k] == wj and bounds[k + 1] - bounds[k] == lj:
                    same = True
                    if lj > 8:
                        for q in range(lj):
                            if buf[bounds[k] + q] != buf[bounds[j] + q]:
                                same = False
                                break
                    if same:
                        ids[j] = ids[k]
                        break
                slot = (slot + np.uint64(1)) & mask
        fwd = _one_pass(ids, n, n_types, threshold, False, stamp[:n_types], limit)
        bwd = _one_pass(ids, n, n_types, threshold, True, stamp[:n_types], limit)
        out[t] = (fwd + bwd) / 2
    return out
