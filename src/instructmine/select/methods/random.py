"""``random``: n records drawn with ``seed`` (the baseline every method is judged against)."""

from __future__ import annotations

from typing import Any

from instructmine.select.methods import MethodInputs, SelectionMethod, register


@register
class Random(SelectionMethod):
    """A seeded permutation of the ids (:func:`draw`): the first n are the records a random
    trial takes (:class:`~instructmine.select.subsets.Ranking`), and a larger n keeps the
    smaller one's records."""

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
        perm = draw(ids, config.seed or 0)
        rank = np.empty(len(ids), dtype=np.float64)
        rank[np.searchsorted(ids, perm)] = np.arange(len(ids))  # each id's place in the draw
        return pa.array(ids.tolist(), pa.string()), rank


def draw(ids: Any, seed: int) -> Any:
    """The seeded random order of ``ids`` (sorted first, so their file order does not matter):
    its first n are a random trial's n records at ``seed``, nested across n."""
    import numpy as np

    return np.random.default_rng(seed).permutation(np.sort(ids))
