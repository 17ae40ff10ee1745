"""The diversity filter equals a brute-force greedy walk on a few thousand random vectors."""

from __future__ import annotations

import numpy as np
import pytest

from instructmine.select.config import Quota
from instructmine.select.walk import walk


def _brute(order, unit, t, n, groups=None, limit=None):
    chosen, counts = [], {}
    for i in order:
        if len(chosen) == n:
            break
        if groups is not None and counts.get(groups[i], 0) >= limit:
            continue
        if chosen and (unit[chosen] @ unit[i]).max() >= t:  # against every chosen record
            continue
        chosen.append(i)
        if groups is not None:
            counts[groups[i]] = counts.get(groups[i], 0) + 1
    return chosen


def _data(seed=0, n=3000, d=12):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, d))
    vecs = centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, d))
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    sims = np.sort((unit @ unit.T)[np.triu_indices(n, 1)])
    # a threshold in a gap of the similarity distribution, so float rounding cannot decide
    k = np.searchsorted(sims, 0.9)
    gaps = np.diff(sims[k - 2000 : k + 2000])
    j = k - 2000 + int(np.argmax(gaps))
    t = float(sims[j] + sims[j + 1]) / 2
    assert sims[j + 1] - sims[j] > 1e-5
    scores = np.round(rng.random(n), 2)  # ties, broken by id
    ids = np.asarray([f"r{i:05d}" for i in range(n)], dtype=object)
    return ids, scores, vecs.astype(np.float32), unit, t


@pytest.mark.parametrize("backend", ["numpy", "faiss"])
def test_diversity_equals_brute_force(backend):
    ids, scores, vecs, unit, t = _data()
    order = sorted(range(len(ids)), key=lambda i: (scores[i], ids[i]))
    want = _brute(order, unit, t, 400)
    got = walk(ids, scores, n=400, vectors=vecs, diverse=t, backend=backend, block=256)
    assert got.chosen.tolist() == want
    assert got.skipped["diversity"] > 0
    everything = walk(ids, scores, vectors=vecs, diverse=t, backend=backend, block=700)
    assert everything.chosen.tolist() == _brute(order, unit, t, len(ids))


def test_diversity_with_quota_equals_brute_force():
    ids, scores, vecs, unit, t = _data(seed=1, n=2000)
    groups = np.asarray([f"g{i % 3}" for i in range(len(ids))], dtype=object)
    order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))
    want = _brute(order, unit, t, 300, groups, 60)
    got = walk(
        ids,
        scores,
        n=300,
        descending=True,
        vectors=vecs,
        diverse=t,
        block=128,
        quotas=[Quota(column="g", value="*", limit=60)],
        groups={"g": groups},
    )
    assert got.chosen.tolist() == want
