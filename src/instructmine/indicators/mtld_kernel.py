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
