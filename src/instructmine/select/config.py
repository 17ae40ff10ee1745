"""The validated options of one selection."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Quota(BaseModel):
    """At most ``limit`` records whose ``column`` equals ``value`` (``*``: every value)."""

    model_config = ConfigDict(extra="forbid")

    column: str
    value: str
    limit: int = Field(ge=0)

    @classmethod
    def parse(cls, text: str) -> Quota:
        """Parse ``COLUMN=VALUE:LIMIT`` (for example ``source=alpaca:100`` or ``category=*:50``)."""
        column, sep, rest = text.partition("=")
        value, sep2, limit = rest.rpartition(":")
        if not (sep and sep2 and column and value and limit.strip().isdigit()):
            raise ValueError(
                f"quota {text!r}: write COLUMN=VALUE:LIMIT, e.g. source=alpaca:100 or category=*:50"
            )
        return cls(column=column.strip(), value=value.strip(), limit=int(limit))


class SelectConfig(BaseModel):
    """How to walk a ranking: which score, which end, how many, and which records to skip."""

    model_config = ConfigDict(extra="forbid")

    by: str = "predicted_log_loss"
    order: Literal["ascending", "descending"] = "ascending"
    top: int | None = Field(default=None, ge=0)
    frac: float | None = Field(default=None, gt=0.0, le=1.0)
    below: float | None = None
    above: float | None = None
    quotas: list[Quota] = []
    diverse: float | None = Field(default=None, gt=-1.0, le=1.0)
    embeddings_indicator: str = "knn_6"
    backend: Literal["numpy", "faiss"] = "numpy"

    @model_validator(mode="after")
    def _one_size(self) -> SelectConfig:
        if self.top is not None and self.frac is not None:
            raise ValueError("give --top or --frac, not both")
        if self.top is None and self.frac is None and self.below is None and self.above is None:
            raise ValueError("say how many: --top N, --frac F, --below X or --above X")
        return self
