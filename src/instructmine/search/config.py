"""The size search's YAML config, validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from instructmine.cluster import RaySettings


class ObjectiveSpec(BaseModel):
    """The objective's factory, ``module:function``, called as ``function(context, **params)``."""

    model_config = ConfigDict(extra="forbid")

    factory: str
    params: dict[str, Any] = {}


class SearchConfig(RaySettings):
    """One size search: the range of n, the budget, the baselines and the objective.

    ``runner: ray`` runs trials as Ray tasks, ``workers`` at a time (``ray_address``,
    ``ray_resources``); the objective is built once per Ray worker process.
    """

    model_config = ConfigDict(extra="forbid")

    objective: ObjectiveSpec
    out: Path
    ranked: Path | None = None
    pool: Path | None = None
    by: str = "predicted_log_loss"
    order: Literal["ascending", "descending"] = "ascending"
    lo: int = Field(ge=1)
    hi: int = Field(ge=1)
    trials: int = Field(default=30, ge=1, description="top-n trials in all, grid included")
    seconds: float | None = Field(default=None, gt=0, description="stop asking after this")
    grid: int = Field(default=6, ge=0, description="log-spaced points evaluated first")
    random_seeds: list[int] = [0, 1, 2]
    baseline: Literal["all", "grid", "none"] = "all"
    workers: int = Field(default=1, ge=1)
    seed: int = 0
    low_cost: bool = Field(default=True, description="start the local search at n = lo")
    full: bool = Field(
        default=False,
        description="also train once on every ranked record: the full-pool baseline",
    )

    @model_validator(mode="after")
    def _range(self) -> SearchConfig:
        if self.hi <= self.lo:
            raise ValueError(f"hi ({self.hi}) must be larger than lo ({self.lo})")
        if self.baseline != "none" and len(self.random_seeds) < 3:
            raise ValueError("give at least 3 random_seeds, so the random baseline has a spread")
        if self.full and self.ranked is None:
            raise ValueError("full: true trains on every ranked record; give `ranked:`")
        return self


def load_config(path: Path | str) -> SearchConfig:
    """Read a YAML config; relative paths are taken from the config file's folder."""
    import yaml
    from pydantic import ValidationError

    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ValueError(f"{path}: cannot read the search config ({e})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: the search config must be a mapping of options")
    for key in ("out", "ranked", "pool"):
        if doc.get(key) is not None and not Path(doc[key]).is_absolute():
            doc[key] = str(path.parent / doc[key])
    try:
        return SearchConfig(**doc)
    except ValidationError as e:
        raise ValueError(f"{path}: {e}") from None
