"""The YAML config of ``instructmine select-compare``: one n, several methods, one objective."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from instructmine.proxy.config import ProxyConfig
from instructmine.select.config import IFD_BELOW, RdsSettings
from instructmine.train.config import TrainConfig

METHODS = ("rule", "rds", "ifd", "random")
Method = Literal["rule", "rds", "ifd", "random"]


class CompareConfig(BaseModel):
    """Subsets of ``n`` records by each method, each fine-tuned, eval losses side by side.

    ``methods`` (default: every method whose inputs are given): ``rule`` walks ``ranked``'s
    ``by`` column; ``rds`` ranks the pool by RDS+ similarity to ``queries`` (default: the eval
    set's prompts) with ``rds.model`` (default: the model being tuned); ``ifd`` takes the highest
    IFD ≤ ``ifd_below`` (the ``ifd`` column of the pool or of the score folder ``scores``);
    ``random`` draws n at each of ``random_seeds``. Each non-random subset is trained at every
    seed of ``seeds``. ``objective``: ``proxy`` (the rule's frozen-trunk proxy fine-tune,
    settings ``proxy``) or ``lora`` (a LoRA fine-tune through ``instructmine train``, settings
    ``train``); either way the number compared is the eval loss on ``eval``.
    """

    model_config = ConfigDict(extra="forbid")

    pool: Path
    eval: Path
    n: int = Field(ge=1)
    out: Path
    methods: list[Method] | None = None
    ranked: Path | None = None
    by: str = "predicted_log_loss"
    order: Literal["ascending", "descending"] = "ascending"
    scores: Path | None = None
    queries: Path | None = None
    rds: RdsSettings | None = None
    ifd_below: float = IFD_BELOW
    seeds: list[int] = Field(default=[0], min_length=1)
    random_seeds: list[int] = [0, 1, 2]
    objective: Literal["proxy", "lora"] = "proxy"
    proxy: ProxyConfig = Field(default_factory=ProxyConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    level: float = Field(default=0.95, gt=0.5, lt=1.0, description="confidence level of CIs")

    @model_validator(mode="after")
    def _check(self) -> CompareConfig:
        if len(set(self.random_seeds)) < 3:
            raise ValueError("give at least 3 distinct random_seeds, so random has a spread")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds {self.seeds} repeat a seed")
        for key in ("eval_data", "seed", "max_records"):
            if key in self.train.model_fields_set:
                raise ValueError(
                    f"train.{key} is set by select-compare (eval: / seeds: / n:); remove it"
                )
        if self.methods is not None and not self.methods:
            raise ValueError("methods is empty; leave it out to run every available method")
        return self

    @property
    def model(self) -> str:
        """The model being tuned (the proxy's or the LoRA run's)."""
        return self.proxy.model if self.objective == "proxy" else self.train.model

    def rds_settings(self) -> RdsSettings:
        """RDS+ settings; the model defaults to the one being tuned."""
        return self.rds or RdsSettings(model=self.model)

    def setup_key(self) -> dict[str, Any]:
        """What a finished unit's loss depends on besides its subset (checked on resume)."""
        from instructmine.fingerprint import file_digest

        settings = self.proxy if self.objective == "proxy" else self.train
        return {
            "objective": self.objective,
            "settings": settings.model_dump(mode="json"),
            "eval": file_digest(self.eval)["sha256"],
        }


def load_compare_config(path: Path | str, overrides: list[str] | None = None) -> CompareConfig:
    """Read a YAML config, then apply ``KEY=VALUE`` ``overrides`` (``--set``).

    Relative paths in the file are taken from the config file's folder; paths given in an
    override are taken as written (from the working directory).
    """
    import yaml
    from pydantic import ValidationError

    from instructmine.overrides import parse_overrides

    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ValueError(f"{path}: cannot read the compare config ({e})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: the compare config must be a mapping of options")
    for key in ("pool", "eval", "out", "ranked", "scores", "queries"):
        if doc.get(key) is not None and not Path(doc[key]).is_absolute():
            doc[key] = str(path.parent / doc[key])
    doc = parse_overrides(overrides or [], option="--set", base=doc)
    try:
        return CompareConfig(**doc)
    except ValidationError as e:
        raise ValueError(f"{path}: {e}") from None
