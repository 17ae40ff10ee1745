"""Contamination audit: find pool records that overlap evaluation items, at three levels
(shared normalised word n-grams and whole short prompts; MinHash near duplicates verified by
exact Jaccard; optional embedding cosine), report every hit and remove the hit records.

See ``docs/contamination.md``.
"""

from instructmine.decontaminate.audit import (
    DecontaminateSummary,
    decontaminate_pool,
    output_paths,
    print_summary,
)
from instructmine.decontaminate.config import DecontaminateConfig
from instructmine.decontaminate.index import EvalIndex

__all__ = [
    "DecontaminateConfig",
    "DecontaminateSummary",
    "EvalIndex",
    "decontaminate_pool",
    "output_paths",
    "print_summary",
]
