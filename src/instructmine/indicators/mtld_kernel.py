"""The numba kernel behind ``mtld.mtld_batch`` (imported only when MTLD is set up).

Module-level ``njit(cache=True)`` functions, so the compiled code is cached on disk and later
processes load it instead of compiling again.
"""

import numpy as np
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
    # Input: ASCII-normalised UTF-8 (``mtld.normalise_batch``): 0x20 separates tokens, 0xFF is a
    # deleted character (never in UTF-8), every other byte is part of a token.
    n_texts = len(starts)
    out = np.empty(n_texts, dtype=np.float64)
    longest = 1
    for t in range(n_texts):
        longest = max(longest, ends[t] - starts[t])
    cap = longest // 2 + 2
    w_start = np.empty(cap, dtype=np.int64)
    w_len = np.empty(cap, dtype=np.int64)
    ids = np.empty(cap, dtype=np.int64)
    hashes = np.empty(cap, dtype=np.uint64)
    size = 1
    while size < 2 * cap:
        size *= 2
    table = np.empty(size, dtype=np.int64)  # slot -> first token index with that word
    buf = np.empty(longest + 1, dtype=np.uint8)
    stamp = np.empty(cap, dtype=np.int64)
    prime = np.uint64(1099511628211)
    basis = np.uint64(14695981039346656037)
    for t in range(n_texts):
        # cut tokens into buf (deleted bytes dropped) and hash them (FNV-1a; the hash only
        # spreads tokens over the table, equality is checked byte by byte below)
        m = 0
        n = 0
        i = starts[t]
        end = ends[t]
        while i < end:
            if data[i] == 32:
                i += 1
                continue
            first = m
            h = basis
            while i < end:
                b = data[i]
                if b == 32:
                    break
                if b != 255:
                    buf[m] = b
                    m += 1
                    h = (h ^ np.uint64(b)) * prime
                i += 1
            if m > first:  # a run of only deleted characters is no token
                w_start[n] = first
                w_len[n] = m - first
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
