"""Units of work for mixture grids: one mixture (and seed) in, a flat mapping of results out.

A unit is any ``module:function`` taking a :class:`~instructmine.mix.grid.UnitInput`; it must
be importable in a fresh process (so a local process pool or a Ray task can run it unchanged)
and write only inside ``UnitInput.workdir``.

:func:`finetune_and_evaluate` is the unit of the paper's grid: fine-tune the base model on the
mixture pool (the None mixture evaluates the base model itself), run the evaluation suites, and
return one number per skill. Its options (``unit_options`` in the grid config) are
:class:`FinetuneEvalOptions`. It is heavy (a fine-tune and the suites per mixture and seed);
``docs/mixtures.md`` gives the config of the real 8-mixture run and its cost.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from instructmine.mix.grid import UnitInput


class FinetuneEvalOptions(BaseModel):
    """Options of :func:`finetune_and_evaluate`: train and eval settings and the suites."""

    model_config = ConfigDict(extra="forbid")
    train: dict[str, Any] = Field(default_factory=dict, description="TrainConfig fields")
    eval: dict[str, Any] = Field(default_factory=dict, description="EvalConfig fields")
    suites: list[str] = ["nlp", "code", "chat", "loss"]
    skills: dict[str, str] = Field(
        default_factory=lambda: {
            "nlp": "nlp_mean_acc_minus_chance",
            "code": "coding_humaneval_pass@1",
            "chat": "-loss/self_instruct",
        },
        description="skill name -> result key; a leading '-' negates it (losses: higher = better)",
    )


def flatten_skills(summary: dict[str, Any]) -> dict[str, float]:
    """``skills_summary`` output as flat ``name -> number`` (eval losses as ``loss/<set>``)."""
    out: dict[str, float] = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            out.update({f"loss/{k}": float(v) for k, v in value.items() if v is not None})
        elif value is not None:
            out[key] = float(value)
    return out


def name_skills(flat: dict[str, float], skills: dict[str, str]) -> dict[str, float]:
    """``flat`` plus one entry per named skill (keys absent from ``flat`` are left out)."""
    out = dict(flat)
    for name, key in skills.items():
        sign, key = (-1.0, key[1:]) if key.startswith("-") else (1.0, key)
        if key in flat:
            out[name] = sign * flat[key]
    return out


def finetune_and_evaluate(inp: UnitInput) -> dict[str, float]:
    """Fine-tune on the mixture (seeded by the grid seed) and evaluate; skills as numbers."""
    from instructmine.evaluate.run import EvalConfig, evaluate
    from instructmine.train.config import TrainConfig
    from instructmine.train.run import train

    opts = FinetuneEvalOptions.model_validate(inp.options)
    cfg = TrainConfig.model_validate({**opts.train, "seed": inp.seed})
    target: str = cfg.model
    if inp.pool is not None:
        target = str(train(inp.pool, inp.workdir / "run", cfg, progress=False).run_dir)
    doc = evaluate(
        target,
        suites=opts.suites,
        out=inp.workdir / "results.json",
        config=EvalConfig.model_validate(opts.eval),
    )
    return name_skills(flatten_skills(doc["skills"]), opts.skills)
