"""Score a pool with indicators: the scoring stage, its files, statistics and rendering.

- :func:`score_pool` (``run.py``): the stage. Creates the indicators (default: the offline set
  in ``indicators.registry.DEFAULT_INDICATORS``), runs them with the local runner into
  ``out_dir`` (per-record cache, resumable), writes ``out_dir/scores.json`` (the stage
  manifest: files, provenance, statistics, correlations) and, on request, the pool with every
  indicator column joined on. A re-run whose manifest matches is skipped.
- ``files.py``: :func:`load_scores`, :func:`join_pool`, :func:`files_from_dir`,
  :func:`read_embeddings` (the kNN indicator's stored vectors, for selection).
- ``stats.py``: per-column statistics and correlations; ``render.py``: the rich tables.
"""

from instructmine.scoring.files import files_from_dir, join_pool, load_scores, read_embeddings
from instructmine.scoring.run import ScoreSummary, make_indicators, score_pool

__all__ = [
    "ScoreSummary",
    "files_from_dir",
    "join_pool",
    "load_scores",
    "make_indicators",
    "read_embeddings",
    "score_pool",
]
