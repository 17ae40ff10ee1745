"""``random``: n records drawn with ``seed`` (the baseline every method is judged against)."""

from __future__ import annotations

from typing import Any

from instructmine.select.methods import MethodInputs, SelectionMethod, register


@register
class Random(SelectionMethod):
    """A seeded permutation of the ids (sorted first, so file order does not matter): the
    first n are the same records as :class:`~instructmine.select.subsets.Ranking` draws for a
    random trial, and a larger n keeps the smaller one's records."""

    name = "random"
    summary = "n records drawn with --seed (the baseline)"
    ranks_by = "random_rank"
    order = "ascending"
    seeded = True

    def ranking(self, inputs: MethodInputs, config: Any) -> Any:
        import numpy as np
        import pyarrow as pa

        from instructmine.io.pool import pool_ids

        ids = np.sort(pool_ids(inputs.ranked or inputs.pool).to_numpy(zero_copy_only=False))
        perm = np.random.default_rng(config.seed or 0).permutation(ids)
        rank = np.empty(len(ids), dtype=np.float64)
        rank[np.searchsorted(ids, perm)] = np.arange(len(ids))  # each id's place in the draw
        return pa.array(ids.tolist(), pa.string()), rank
