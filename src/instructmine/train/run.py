"""One fine-tuning run: pool in, run folder out (the training stage).

The run folder's layout and what "finished" means belong to :mod:`instructmine.run_dir`.
``metrics.json`` is written last and holds the stage block (:mod:`instructmine.stage`): the
pool's and eval set's content hashes, the base model's content fingerprint and the config.
Re-running the same config on the same data and model into a finished run folder returns the
stored result without loading anything; a different config, pool or model there is an error
unless ``overwrite`` is set. An interrupted run (no stage block) is started over. A new run is
built in a hidden folder beside ``OUT`` and swapped in whole when complete, so a failed or
interrupted run (``overwrite`` or not) leaves the previous one as it was.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from instructmine import atomic
from instructmine.run_dir import CONFIG, MANIFEST, SFT_CONFIG, WORK, RunDir
from instructmine.stage import RESULT_FIELDS, Stage, StageResult, strip_stage
from instructmine.train.config import PERFORMANCE_KEYS, TrainConfig
from instructmine.train.fit import Fitted, Prepared, check_qlora_available, fit, prepare

STAGE_VERSION = 1


class RunDirError(RuntimeError):
    """The output folder holds a different run."""


@dataclass
class RunResult(StageResult):
    """What a finished run produced (the contents of its ``metrics.json``; ``skipped``: the
    same run was already finished there, nothing was trained)."""

    run_dir: str
    model: str
    provenance: str
    method: str
    n_records: int
    steps: int
    loss_curve: list[float]
    final_loss: float
    tokens: int
    tokens_per_second: float
    train_seconds: float
    wall_seconds: float
    eval_loss_before: float | None = None
    eval_loss_after: float | None = None
    eval: dict[str, Any] = field(default_factory=dict)
    pool: str = ""
    pool_sha256: str = ""

    @property
    def weights_dir(self) -> Path:
        """The adapter folder (LoRA/QLoRA) or the model folder (full fine-tuning)."""
        return RunDir(self.run_dir).weights_dir(self.method)


def load_run(run_dir: Path | str) -> RunResult:
    """Read a finished run's result from its folder."""
    run = RunDir(Path(run_dir))
    run.require_finished()
    data = strip_stage(json.loads(run.metrics_path.read_text(encoding="utf-8")))
    data["run_dir"] = str(run.path.resolve())
    return RunResult(**{k: v for k, v in data.items() if k not in RESULT_FIELDS})


def _stage(cfg: TrainConfig, pool_path: Path | str, run: RunDir) -> Stage:
    inputs: dict[str, Any] = {"pool": pool_path}
    if cfg.eval_data is not None:
        inputs["eval_data"] = cfg.eval_data
    return Stage(
        "train",
        STAGE_VERSION,
        config=cfg.model_dump(mode="json", exclude=set(PERFORMANCE_KEYS)),
        inputs=inputs,
        models={"model": cfg.model},
        outputs=[run.weights_dir(cfg.method)],
    )


def _eval(cfg: TrainConfig, prepared: Prepared, model: Any, base: bool) -> Any:
    """Eval loss of ``model`` on ``cfg.eval_data`` (the base model's: from the shared cache)."""
    from instructmine.train.eval_loss import base_eval_loss, eval_loss

    if cfg.eval_data is None:
        return None
    args = (cfg.eval_data, cfg.template, cfg.eval_max_length, cfg.eval_batch_size)
    if base:
        variant = "qlora-4bit" if cfg.method == "qlora" else "fp32"
        return base_eval_loss(
            cfg.model, model, prepared.tokenizer, *args, cfg.eval_max_records, variant=variant
        )
    return eval_loss(model, prepared.tokenizer, *args, cfg.eval_max_records)


def _save(
    cfg: TrainConfig,
    pool_path: Path | str,
    run: RunDir,
    work: RunDir,
    stage: Stage,
    prepared: Prepared,
    fitted: Fitted,
    evals: tuple[Any, Any],
    started: float,
) -> RunResult:
    """Write the weights, configs and manifest into ``work`` (the run being built beside
    ``run``), then ``metrics.json`` last; its stage block names ``run``'s paths."""
    import yaml

    from instructmine.models import describe
    from instructmine.stage import STAGE_KEY
    from instructmine.train.data import write_manifest

    manifest = write_manifest(work.path / MANIFEST, pool_path, prepared.encoded)
    weights = work.weights_dir(cfg.method)
    fitted.trainer.model.save_pretrained(weights)
    prepared.tokenizer.save_pretrained(weights)
    shutil.rmtree(work.path / "trainer", ignore_errors=True)
    atomic.write_text(
        work.path / CONFIG, yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
    )
    atomic.write_json(work.path / SFT_CONFIG, json.loads(fitted.args.to_json_string()), indent=1)
    before, after = evals
    runtime = fitted.train_seconds
    result = RunResult(
        run_dir=str(run.path.resolve()),
        model=cfg.model,
        provenance=describe(cfg.model),
        method=cfg.method,
        n_records=manifest["n_records"],
        steps=fitted.steps,
        loss_curve=fitted.loss_curve,
        final_loss=fitted.loss_curve[-1] if fitted.loss_curve else math.nan,
        tokens=fitted.input_tokens,
        tokens_per_second=fitted.input_tokens / runtime if runtime > 0 else math.nan,
        train_seconds=runtime,
        wall_seconds=time.perf_counter() - started,
        eval_loss_before=before.mean_loss if before else None,
        eval_loss_after=after.mean_loss if after else None,
        eval=(
            {
                "data": str(Path(cfg.eval_data).resolve()),
                "before": before.to_dict(),
                "after": after.to_dict(),
            }
            if before and after
            else {}
        ),
        pool=manifest["pool"],
        pool_sha256=manifest["pool_sha256"],
    )
    final = stage.outputs
    stage.outputs = [weights]  # digested where it is now, recorded where it will be
    block = stage.block()
    stage.outputs = final
    block["outputs"] = dict(zip(map(str, final), block["outputs"].values(), strict=True))
    atomic.write_json(work.metrics_path, {**asdict(result), STAGE_KEY: block})
    return result.mark(stage, run.metrics_path, False)


def _refuse_foreign_entries(run: RunDir) -> None:
    """A run folder is replaced whole when the new run is complete: refuse one holding files
    a run does not write (they would go with it)."""
    if not run.path.is_dir():
        return
    foreign = sorted(
        p.name for p in run.path.iterdir() if p.name not in WORK and not p.name.startswith(".")
    )
    if foreign:
        raise RunDirError(
            f"{run.path} holds files a training run does not write ({', '.join(foreign[:3])}); "
            "a run replaces its folder whole: choose a new or empty output folder"
        )


def train(
    pool_path: Path | str,
    out_dir: Path | str,
    config: TrainConfig | None = None,
    progress: bool = True,
    overwrite: bool = False,
    console: Any = None,
) -> RunResult:
    """Fine-tune ``config.model`` on the pool at ``pool_path``; write the run to ``out_dir``.

    Raises before loading anything on a bad pool, or when QLoRA is asked for without CUDA +
    bitsandbytes. Steps: :func:`~instructmine.train.fit.prepare` (model + encoded data), the
    base model's eval loss (shared cache), :func:`~instructmine.train.fit.fit`, the trained
    model's eval loss, then save.
    """
    from instructmine.io.pool import require_records

    cfg = config or TrainConfig()
    started = time.perf_counter()
    require_records(pool_path, "train on")  # fails fast: missing, not a pool, or empty
    atomic.refuse_file_as_folder(out_dir, "run folder")
    if cfg.eval_data is not None:
        require_records(cfg.eval_data, "measure the eval loss on")
    if cfg.method == "qlora":
        check_qlora_available()
    run = RunDir(Path(out_dir))
    stage = _stage(cfg, pool_path, run)
    _refuse_foreign_entries(run)
    if not overwrite:
        if stage.done(run.metrics_path) is not None and run.is_finished():
            return load_run(run.path).mark(stage, run.metrics_path, True)
        if run.is_finished():
            raise RunDirError(
                f"{run.path} holds a finished run with a different config, pool or model; "
                "choose another output folder or pass overwrite (--overwrite)"
            )
    stage.start(run.metrics_path)  # the clock and the input digests the manifest records
    atomic.remove_stale_for(run.path)  # what a killed run left beside OUT
    # the new run is built beside the old one and replaces it only when complete: a run that
    # fails (a check in prepare, a training error) or is interrupted leaves OUT as it was
    with atomic.atomic_path(run.path, folder=True) as tmp:
        work = RunDir(tmp)
        prepared = prepare(cfg, pool_path)
        before = _eval(cfg, prepared, prepared.model, base=True)
        fitted = fit(cfg, prepared, work.path, progress, console)
        after = _eval(cfg, prepared, fitted.trainer.model, base=False)
        evals = (before, after)
        result = _save(cfg, pool_path, run, work, stage, prepared, fitted, evals, started)
    return result
