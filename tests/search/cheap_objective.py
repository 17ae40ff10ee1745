"""A cheap objective for the size-search tests: two local minima in n, the deeper one at 5000.

Loaded by the search through its config (``cheap_objective:two_minima``), in worker processes
too, so it lives in an importable module. ``calls`` (a file) records every evaluation started.
"""

from __future__ import annotations

import math
import os
import time


def loss_of(n: int, minima=(300, 5000), depths=(0.3, 0.0), widths=(1.0, 4.0)) -> float:
    """The noise-free curve: the lower of two parabolas in log n."""
    return min(
        w * (math.log(n) - math.log(m)) ** 2 + d
        for m, d, w in zip(minima, depths, widths, strict=True)
    )


def two_minima(context, sleep: float = 0.0, calls: str | None = None, **curve):
    """Factory: the top-n loss is ``loss_of(n)``; a random n is 0.5 worse, seed-dependent."""

    def objective(trial) -> float:
        if calls:
            fd = os.open(calls, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(fd, f"{trial.key}\n".encode())
            os.close(fd)
        if sleep:
            time.sleep(sleep)
        loss = loss_of(trial.n, **{k: tuple(v) for k, v in curve.items()})
        if trial.arm == "random":
            loss += 0.5 + 0.01 * trial.seed
        return loss

    return objective


def mean_answer_length(pool, workdir, scale: float = 1.0) -> float:
    """A ``fit`` for ``subset_loss``: reads the subset pool it is given (a real file)."""
    from instructmine.io import read_pool

    msgs = read_pool(pool)["messages"].to_pylist()
    (workdir / "seen.txt").write_text(str(len(msgs)))
    return scale * sum(len(m[-1]["content"]) for m in msgs) / len(msgs)
