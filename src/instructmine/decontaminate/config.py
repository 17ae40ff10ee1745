"""Settings of the contamination audit (``instructmine decontaminate``, the recipe stage)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DecontaminateConfig(BaseModel):
    """What counts as a hit at each level, and what happens to hit records.

    - level 1, ``ngram``: a pool record (prompt and response) shares a normalised word
      ``ngram``-gram with an eval item's prompt (and reference answer, ``match_reference``);
      eval prompts shorter than ``ngram`` words are matched whole against the pool record's
      whole prompt (level ``prompt``);
    - level 2, ``near``: MinHash LSH candidates between prompts (word ``near_ngram`` shingles),
      kept when the exact Jaccard of the shingle sets is at least ``near_threshold``;
    - level 3, ``embedding`` (off by default): cosine of the prompts' sentence embeddings
      (``embed_model``) at least ``embed_threshold``.
    """

    model_config = ConfigDict(extra="forbid")

    ngram: int = Field(13, ge=1)
    match_reference: bool = True
    near: bool = True
    near_threshold: float = Field(0.7, gt=0.0, le=1.0)
    near_ngram: int = Field(2, ge=1)
    num_perm: int = Field(128, ge=16)
    seed: int = 1
    embed: bool = False
    embed_model: str = "all-minilm-l6-v2"
    embed_threshold: float = Field(0.92, gt=0.0, le=1.0)
    embed_batch: int = Field(64, ge=1)
    keep_hits: bool = False
    batch_size: int = Field(10_000, ge=1)
