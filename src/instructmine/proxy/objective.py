"""The proxy fine-tune as a size-search ``fit`` hook: train on a subset pool, return eval loss.

``instructmine.search.objectives:subset_loss`` writes each trial's subset (top-n by the rule,
or n at random) and calls ``fit(pool, workdir, **fit_params)``; this is that ``fit`` for the
rule's proxy (DESIGN §2.2, docs/experiments.md)::

    objective:
      factory: instructmine.search.objectives:subset_loss
      params:
        fit: instructmine.proxy.objective:eval_loss
        fit_params: {candidates: pool.parquet, eval: eval.parquet, proxy: {steps: 36}}

The trunk cache covers every record of ``candidates`` (the pool the subsets are drawn from),
so it is built once, on the first trial, and found again by its content key by every later
trial and worker process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def eval_loss(
    pool: Path | str,
    workdir: Path | str,
    candidates: str,
    eval: str,
    proxy: dict[str, Any] | None = None,
    seed: int = 0,
    trunk_dir: str | None = None,
) -> float:
    """Proxy fine-tune on the records of ``pool`` (drawn from ``candidates``) with ``seed``;
    the eval loss on ``eval``. ``proxy``: :class:`ProxyConfig` settings (default L20-full)."""
    from instructmine.io.pool import pool_ids
    from instructmine.proxy.config import ProxyConfig
    from instructmine.proxy.run import run_proxy
    from instructmine.proxy.trunk_cache import cache_for_pool

    config = ProxyConfig.model_validate(proxy or {})
    cache = cache_for_pool(config, candidates, eval, trunk_dir)
    ids = pool_ids(pool).to_pylist()
    return run_proxy(config, cache, ids, seed).eval_loss
