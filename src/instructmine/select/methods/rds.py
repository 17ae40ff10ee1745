"""``rds``: RDS+ — rank the pool by embedding similarity to the target's examples (queries)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instructmine.select.methods import MethodInputs, SelectionMethod, register


@register
class Rds(SelectionMethod):
    """RDS+ (round-robin over queries of the pool's cosine similarity, the tuned model's
    hidden states); its ranking is written to the work folder, embeddings cached by content."""

    name = "rds"
    summary = "RDS+ similarity to --queries (the target's examples), embedded by --model"
    ranks_by = "rds_rank"
    order = "ascending"
    reads = ("queries",)

    def configure(self, config: Any) -> None:
        from instructmine.select.config import RdsSettings

        rds = config.rds
        config.rds = None  # the base check refuses rds settings for every other method
        super().configure(config)
        config.rds = rds or RdsSettings()

    def unavailable(self, inputs: MethodInputs) -> str | None:
        if inputs.queries is None:
            return "needs the target's examples: --queries EVAL.parquet (`queries:` in a config)"
        return None

    def ranking(self, inputs: MethodInputs, config: Any) -> Any:
        work = inputs.work or Path(inputs.pool).with_suffix(".work")
        return rds_ranking(inputs.pool, inputs.queries, config, work)

    def models(self, config: Any) -> dict[str, str]:
        return {"rds_model": config.rds.model}

    def compare_options(self, cfg: Any) -> dict[str, Any]:
        return {"rds": cfg.rds_settings()}


def rds_ranking(pool: Path, queries: Path, config: Any, work: Path) -> tuple[Any, Any]:
    """RDS+ ranks of POOL's records for ``queries`` (also written to ``work/rds_rank.parquet``);
    the embeddings are cached by content in ``$INSTRUCTMINE_CACHE/rds``."""
    import numpy as np
    import pyarrow as pa

    from instructmine import atomic
    from instructmine.models import cache_dir
    from instructmine.select.rds import rds_scores

    s = config.rds
    ids, rank, score = rds_scores(
        pool,
        queries,
        s.model,
        query_prompts_only=s.query_prompts_only,
        batch_size=s.batch_size,
        max_length=s.max_length,
        cache_dir=cache_dir() / "rds",
    )
    table = pa.table({"id": ids, "rds_rank": rank, "rds_score": score})
    atomic.write_table(table, work / "rds_rank.parquet")
    return table.column("id").combine_chunks(), rank.astype(np.float64)
