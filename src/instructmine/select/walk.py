"""The selection walk: order records by a score, then take them one by one, skipping some.

Pure functions over arrays (no files), so the exact behaviour is easy to test: records are
ordered by score (ties by id, ascending, so the result never depends on file order), records
without a score are left out, and the walk skips a record whose dedup cluster already has a
chosen member, whose quota is full, or whose embedding is within the cosine threshold of a
chosen one (DEITA), until ``n`` records are chosen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from instructmine.select.config import Quota
from instructmine.select.diversity import ChosenSet, unit_rows


@dataclass
class Walk:
    """What a walk chose (positions into the input arrays, in rank order) and what it skipped."""

    chosen: np.ndarray
    ranked: int
    unscored: int
    skipped: dict[str, int] = field(default_factory=dict)


def rank_order(ids: np.ndarray, scores: np.ndarray, descending: bool = False) -> np.ndarray:
    """Positions of scored records, best first; ties broken by id (ascending); NaN left out."""
    scores = np.asarray(scores, dtype=np.float64)
    keep = np.flatnonzero(~np.isnan(scores))
    key = -scores[keep] if descending else scores[keep]
    return keep[np.lexsort((np.asarray(ids, dtype=object)[keep].astype(str), key))]


def walk(
    ids: Sequence[str] | np.ndarray,
    scores: np.ndarray,
    *,
    n: int | None = None,
    descending: bool = False,
    below: float | None = None,
    above: float | None = None,
    quotas: Sequence[Quota] = (),
    groups: Mapping[str, np.ndarray] | None = None,
    clusters: np.ndarray | None = None,
    vectors: np.ndarray | None = None,
    diverse: float | None = None,
    backend: str = "numpy",
    block: int = 2048,
) -> Walk:
    """Choose up to ``n`` records (all that pass when ``n`` is None) by walking the ranking.

    ``below``/``above`` keep records scoring ≤ below / ≥ above. ``groups`` maps a quota's column
    to each record's value; ``clusters`` gives each record's dedup cluster key (records sharing
    one count once); ``vectors`` with ``diverse`` skip a record whose cosine with a chosen one is
    ≥ ``diverse``.
    """
    ids = np.asarray(ids, dtype=object)
    scores = np.asarray(scores, dtype=np.float64)
    order = rank_order(ids, scores, descending)
    unscored = len(ids) - len(order)
    if below is not None:
        order = order[scores[order] <= below]
    if above is not None:
        order = order[scores[order] >= above]
    target = len(order) if n is None else min(n, len(order))
    skipped = {"cluster": 0, "quota": 0, "diversity": 0}
    groups = groups or {}
    for q in quotas:
        if q.column not in groups:
            raise ValueError(f"quota on {q.column!r}: the pool has no such column")
    counts: dict[tuple[int, str], int] = {}
    seen_clusters: set = set()
    chosen: list[int] = []
    chosen_set = None
    if diverse is not None:
        if vectors is None:
            raise ValueError("the diversity filter needs embeddings (vectors)")
        # rows are normalised block by block, as the walk reaches them: memory stays the chosen
        # set plus one block, not a second copy of every vector (row-wise, so the same floats)
        chosen_set = ChosenSet(vectors.shape[1], target, backend)
    for start in range(0, len(order), block):
        if len(chosen) >= target:
            break
        cand = order[start : start + block]
        if chosen_set is not None:
            cv = unit_rows(vectors[cand])
            outside = chosen_set.max_similarity(cv)
            gram = cv @ cv.T
            accepted_local: list[int] = []
        for k, pos in enumerate(cand):
            if len(chosen) >= target:
                break
            if clusters is not None and clusters[pos] in seen_clusters:
                skipped["cluster"] += 1
                continue
            full = False
            keys = []
            for qi, q in enumerate(quotas):
                value = str(groups[q.column][pos])
                if q.value in ("*", value):
                    key = (qi, value)
                    keys.append(key)
                    if counts.get(key, 0) >= q.limit:
                        full = True
                        break
            if full:
                skipped["quota"] += 1
                continue
            if chosen_set is not None:
                near = outside[k] >= diverse or (
                    accepted_local and gram[k, accepted_local].max() >= diverse
                )
                if near:
                    skipped["diversity"] += 1
                    continue
                accepted_local.append(k)
            chosen.append(int(pos))
            if clusters is not None:
                seen_clusters.add(clusters[pos])
            for key in keys:
                counts[key] = counts.get(key, 0) + 1
        if chosen_set is not None and accepted_local:
            chosen_set.add(cv[accepted_local])
    return Walk(np.asarray(chosen, dtype=np.int64), len(order), unscored, skipped)
