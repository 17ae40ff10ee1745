"""The numba kernel behind ``mtld.mtld_batch`` (imported only when MTLD is set up).

Module-level ``njit(cache=True)`` functions, so the compiled code is cached on disk and later
processes load it instead of compiling again. ``error_model="numpy"`` drops the Python
zero-division checks (no division here can be by zero).

Input layout (built by ``mtld.encode_batch``): ``data`` holds every text's UTF-8 bytes, each
followed by one ASCII space; text ``t`` is ``data[starts[t]:ends[t]]``. A text with cased
non-ASCII characters arrives lower-cased by Python; for every other text lower-casing only has to
map ASCII letters, which happens here through ``code``.

``code[byte]`` (uint64, like every index here) packs what a byte is: bits 0-7 the
(lower-cased) byte if it belongs to a token, else 0; bit 8 set for a token byte; bit 9 set for a
separator (whitespace, punctuation). A byte with neither bit (digits, ``-``) is deleted: it
neither ends a token nor joins it. Multi-byte whitespace and dashes (``seqs``) are first
overwritten in place by spaces / deleted bytes (same length) in the texts flagged
``has_multibyte``.
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
    u1 = np.uint64(1)
    un = np.uint64(n)
    seg = 0
    types = 0
    count = np.uint64(0)
    factors = 0.0
    for k in range(un):
        w = ids[un - u1 - k] if reverse else ids[k]
        count += u1
        types += stamp[w] != seg
        stamp[w] = seg
        if types <= limit[count]:
            count = np.uint64(0)
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
    ids = np.empty(cap, dtype=np.uint64)
    size = 1
    while size < 2 * cap:
        size *= 2
    # Open-addressing table shared by all texts: a slot holds base + j + 1 for token j of the text
    # whose tokens are numbered from base, so entries of earlier texts (<= base) read as empty and
    # the table never needs clearing.
    slots = np.zeros(size, dtype=np.uint64)
    base = 0
    buf = np.empty(longest + 1, dtype=np.uint8)
    stamp = np.empty(cap, dtype=np.int64)
    limit = _ttr_limits(cap, threshold)
    prime = np.uint64(0x9E3779B97F4A7C15)
    # Indices are unsigned throughout: numba then skips the negative-index fix-up (a compare and
    # a conditional move on every array access), worth ~15% here.
    u0 = np.uint64(0)
    u1 = np.uint64(1)
    u8 = np.uint64(8)
    u255 = np.uint64(255)
    u9 = np.uint64(9)
    for t in range(n_texts):
        m = u0
        nu = u0
        first = u0
        w = u0
        # Tokenise without branches on the byte class (they would mispredict once per token):
        # every byte is stored, only token bytes advance m; a separator closes a non-empty token.
        for i in range(np.uint64(starts[t]), np.uint64(ends[t] + 1)):  # data[ends[t]] is a space
            k = code[data[i]]
            c = k & u255
            tok = (k >> u8) & u1
            sep = k >> u9
            buf[m] = c
            w = (w << (u8 * tok)) | c
            m += tok
            bounds[nu] = first
            words[nu] = w
            nu += sep & np.uint64(m > first)
            first = m if sep else first
            w &= sep - u1  # a separator starts the next token afresh
        bounds[nu] = first
        n = np.int64(nu)
        if n == 0:
            out[t] = 0.0
            continue
        # Intern tokens: equal (length, packed bytes) is equality up to 8 bytes; longer tokens
        # are compared byte by byte, so the ids are exact.
        tsize = 1
        while tsize < 2 * n:
            tsize *= 2
        mask = np.uint64(tsize - 1)
        n_types = 0
        ubase = np.uint64(base)
        for j in range(np.uint64(n)):
            lj = bounds[j + u1] - bounds[j]
            wj = words[j]
            h = (wj ^ np.uint64(lj)) * prime
            slot = (h ^ (h >> np.uint64(32))) & mask
            while True:
                kk = slots[slot]
                if kk <= ubase:
                    slots[slot] = ubase + j + u1
                    ids[j] = n_types
                    n_types += 1
                    break
                k = kk - ubase - u1
                if words[k] == wj and bounds[k + u1] - bounds[k] == lj:
                    same = True
                    if lj > 8:
                        for q in range(np.uint64(lj)):
                            if buf[np.uint64(bounds[k]) + q] != buf[np.uint64(bounds[j]) + q]:
                                same = False
                                break
                    if same:
                        ids[j] = ids[k]
                        break
                slot = (slot + u1) & mask
        base += n
        fwd = _one_pass(ids, n, n_types, threshold, False, stamp[:n_types], limit)
        bwd = _one_pass(ids, n, n_types, threshold, True, stamp[:n_types], limit)
        out[t] = (fwd + bwd) / 2
    return out
