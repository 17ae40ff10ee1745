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


class RdsSettings(BaseModel):
    """RDS+ embedding settings: the model to be tuned and how texts are cut and batched."""

    model_config = ConfigDict(extra="forbid")

    model: str = "smollm2-135m-instruct"
    query_prompts_only: bool = True
    batch_size: int = Field(default=8, ge=1)
    max_length: int = Field(default=512, ge=8)


#: Cherry LLM keeps IFD < 1 (above it the prompt does not help predict the answer).
IFD_BELOW = 1.0


class SelectConfig(BaseModel):
    """How to walk a ranking: which score, which end, how many, and which records to skip.

    ``method``: ``rule`` walks RANKED's ``by`` column (default); ``ifd`` ranks by the ``ifd``
    score, highest first, keeping IFD ≤ 1 unless ``below`` says otherwise (Cherry LLM);
    ``rds`` ranks the pool by RDS+ similarity to a query set (``rds`` settings).
    """

    model_config = ConfigDict(extra="forbid")

    method: Literal["rule", "rds", "ifd"] = "rule"
    rds: RdsSettings | None = None
    by: str = "predicted_log_loss"
    order: Literal["ascending", "descending"] = "ascending"
    top: int | None = Field(default=None, ge=1)
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
        if self.method != "rule":
            own = "ifd" if self.method == "ifd" else "rds_rank"
            if self.by not in ("predicted_log_loss", own):
                raise ValueError(f"method {self.method} ranks by {own}; drop --by {self.by}")
        if self.method == "ifd":
            self.by, self.order = "ifd", "descending"
            if self.below is None:
                self.below = IFD_BELOW
        elif self.method == "rds":
            self.by, self.order = "rds_rank", "ascending"
            if self.rds is None:
                self.rds = RdsSettings()
        elif self.rds is not None:
            raise ValueError("rds settings are for method rds")
        return self
