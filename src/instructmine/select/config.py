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

    ``method``: a registered selection method (:mod:`instructmine.select.methods`): ``rule``
    walks RANKED's ``by`` column (default); ``ifd`` ranks by the ``ifd`` score, highest first,
    keeping IFD ≤ 1 unless ``below`` says otherwise (Cherry LLM); ``rds`` ranks the pool by
    RDS+ similarity to a query set (``rds`` settings); ``random`` draws with ``seed``.
    """

    model_config = ConfigDict(extra="forbid")

    method: str = "rule"
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
    seed: int | None = Field(default=None, description="the draw of a seeded method (random)")

    @model_validator(mode="after")
    def _one_size(self) -> SelectConfig:
        if self.top is not None and self.frac is not None:
            raise ValueError("give --top or --frac, not both")
        if self.top is None and self.frac is None and self.below is None and self.above is None:
            raise ValueError("say how many: --top N, --frac F, --below X or --above X")
        from instructmine.select import methods

        methods.get(self.method).configure(self)
        return self

    def stage_key(self) -> dict:
        """The options the selection depends on, as its manifest records them (``seed`` only
        when set, so selections made before it existed still match)."""
        return self.model_dump(mode="json", exclude=None if self.seed is not None else {"seed"})
