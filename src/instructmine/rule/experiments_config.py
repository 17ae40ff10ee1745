"""Config of the experiments stage: which pools, how to sample sub-datasets, which proxy."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from instructmine.cluster import RaySettings
from instructmine.proxy.config import ProxyConfig


class SamplingConfig(BaseModel):
    """How the K sub-datasets are drawn (see :mod:`instructmine.rule.sampling`)."""

    model_config = ConfigDict(extra="forbid")

    k: int = Field(48, ge=1, description="sub-datasets (one experiment each at seed 0)")
    n_records: int = Field(288, ge=1)
    mixture_fraction: float = Field(0.5, ge=0, le=1, description="share drawn as mixtures")
    dirichlet_alpha: float = Field(0.5, gt=0)
    strata: int = Field(3, ge=2, description="quantile strata of an indicator within a source")
    strata_sources: int = Field(3, ge=1, description="sources pooled in one stratum subset")
    noise_subsets: int = Field(3, ge=0, description="sub-datasets repeated at extra seeds")
    noise_seeds: int = Field(3, ge=1, description="seeds per noise sub-dataset (incl. seed 0)")
    indicators: list[str] | None = Field(None, description="score columns (default: all)")
    median_for: list[str] = Field(
        default_factory=lambda: ["perplexity", "input_length", "output_length", "ifd"],
        description="heavy-tailed columns that also get a `.median` aggregate",
    )
    seed: int = 0


class ExperimentsConfig(RaySettings):
    """``instructmine experiments run CONFIG.yaml``: relative paths are from the YAML's folder.

    ``runner: ray`` (with ``ray_address`` and ``ray_resources``) runs each experiment as a Ray
    task instead of in ``workers`` local processes (``docs/ray.md``).
    """

    model_config = ConfigDict(extra="forbid")

    pool: Path = Field(description="candidate pool (Parquet with a `source` column)")
    scores: Path | None = Field(None, description="`instructmine score` folder of that pool")
    eval: Path = Field(description="eval pool (self-instruct user-oriented)")
    out: Path = Field(description="experiments table (JSON Lines), appended to")
    work_dir: Path = Field(description="specs, claims and logs")
    trunk_dir: Path | None = Field(None, description="trunk cache root (default: cache dir)")
    workers: int = Field(1, ge=1, description="local worker processes")
    proxy: ProxyConfig = Field(default_factory=ProxyConfig)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)

    def resolved(self, base: Path) -> ExperimentsConfig:
        """A copy with relative paths resolved against ``base``."""
        upd = {}
        for name in ("pool", "scores", "eval", "out", "work_dir", "trunk_dir"):
            v = getattr(self, name)
            if v is not None and not Path(v).is_absolute():
                upd[name] = base / v
        return self.model_copy(update=upd)


def load_config(path: Path | str) -> ExperimentsConfig:
    """Read and validate a YAML config; errors name the file."""
    import yaml
    from pydantic import ValidationError

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return ExperimentsConfig.model_validate(data).resolved(path.parent)
    except (OSError, yaml.YAMLError, ValidationError) as err:
        raise ValueError(f"{path}: invalid experiments config: {err}") from err
