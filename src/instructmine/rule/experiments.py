"""The experiments stage: sample sub-datasets, run one proxy fine-tune each, append rows.

:func:`run_experiment` is the unit of work: plain JSON-able arguments in, one table row out,
so a worker process or a Ray task can call it unchanged. :func:`run_experiments` prepares the
specs (sampling) and the shared trunk cache, then runs the pending specs on the execution
engine (:mod:`instructmine.execute`: inline, local processes or Ray tasks). Resumable: an
experiment whose row is in the table is never re-run; each running experiment is claimed
(``WORK/claims/<id>.lock``), and the kernel releases a claim if its process dies (SIGKILL
included), so a killed experiment is simply picked up again by the next run.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from instructmine.rule.experiments_config import ExperimentsConfig
from instructmine.rule.experiments_table import experiments_table, read_rows
from instructmine.rule.proxy_config import ProxyConfig
from instructmine.stage import Stage, StageResult, manifest_path, strip_stage

STAGE_VERSION = 1


@dataclass
class RunSummary(StageResult):
    """What a call of :func:`run_experiments` did (``skipped``: the manifest matched, nothing
    was prepared or run)."""

    total: int
    done_before: int
    ran: int
    table: str
    trunk_cache: str

    @classmethod
    def stored(cls, doc: dict[str, Any]) -> RunSummary:
        """A skipped call's summary: every experiment was done before, none ran now."""
        return cls(doc["total"], doc["total"], 0, doc["table"], doc["trunk_cache"])


def run_experiment(spec: dict[str, Any], proxy: dict[str, Any], trunk_path: str) -> dict:
    """Run one proxy experiment and return its table row (does not write anything).

    ``spec``: ``experiment_id``, ``subset_id``, ``seed``, ``record_ids``, ``sources``,
    ``aggregates``; ``proxy``: a :class:`ProxyConfig` as a dict; ``trunk_path``: a built trunk
    cache folder.
    """
    from instructmine.rule.proxy import run_proxy
    from instructmine.rule.trunk_cache import open_cache

    config = ProxyConfig.model_validate(proxy)
    res = run_proxy(config, open_cache(trunk_path), spec["record_ids"], int(spec["seed"]))
    return {
        "experiment_id": spec["experiment_id"],
        "subset_id": spec["subset_id"],
        "seed": int(spec["seed"]),
        "n_records": len(spec["record_ids"]),
        "sources": spec["sources"],
        "eval_loss": res.eval_loss,
        "base_eval_loss": res.base_eval_loss,
        "seconds": res.seconds,
        "protocol": config.protocol(),
        "kind": spec.get("kind"),
        "train_loss": res.train_loss,
        **spec["aggregates"],
    }


def make_specs(cfg: ExperimentsConfig) -> list[dict[str, Any]]:
    """The ordered experiment specs: every sub-dataset at seed 0, with the noise repeats
    (extra seeds of the first ``noise_subsets`` sub-datasets) interleaved early."""
    from instructmine.io.pool import read_pool
    from instructmine.rule.sampling import sample_subsets
    from instructmine.scoring import load_scores
    from instructmine.scoring.files import files_from_dir

    pool = read_pool(cfg.pool, columns=["id", "source"])
    scores = load_scores(files_from_dir(cfg.scores)) if cfg.scores is not None else None
    subsets = sample_subsets(
        pool.column("id").to_pylist(), pool.column("source").to_pylist(), scores, cfg.sampling
    )
    s = cfg.sampling
    base = [(sub, 0) for sub in subsets]
    extra = [(sub, seed) for seed in range(1, s.noise_seeds) for sub in subsets[: s.noise_subsets]]
    ordered: list = []
    for i, item in enumerate(base):
        ordered.append(item)
        if i >= 2 and i % 3 == 2 and extra:
            ordered.append(extra.pop(0))
    ordered += extra
    return [
        {
            "experiment_id": f"{sub.subset_id}-s{seed}",
            "subset_id": sub.subset_id,
            "seed": seed,
            "kind": sub.kind,
            "note": sub.note,
            "record_ids": sub.record_ids,
            "sources": sub.sources,
            "aggregates": sub.aggregates,
        }
        for sub, seed in ordered
    ]


def check_finished_specs(specs_path: Path, specs: list[dict[str, Any]], table: Path) -> None:
    """Refuse new specs that give a finished experiment other records than it trained on.

    Sampling depends on the scores' columns (strata sub-datasets cycle through them), so a
    resumed run whose ``scores`` folder gained indicators would re-sample, and the specs of
    finished experiments would no longer describe their rows.
    """
    if not specs_path.is_file():
        return
    done = {r["experiment_id"] for r in read_rows(table)}
    lines = specs_path.read_text(encoding="utf-8").splitlines()
    old = {s["experiment_id"]: s["record_ids"] for s in map(json.loads, filter(str.strip, lines))}
    changed = [
        s["experiment_id"]
        for s in specs
        if s["experiment_id"] in done
        and s["experiment_id"] in old
        and old[s["experiment_id"]] != s["record_ids"]
    ]
    if changed:
        raise ValueError(
            f"{specs_path}: sampling now gives finished experiments {changed[:5]} "
            f"({len(changed)} in all) other records than they trained on: the scores' columns "
            "or the sampling settings changed since the run started. Keep `scores` as it was "
            "(or pin `sampling.indicators` to the original columns) and add new indicators to "
            "the table with `instructmine experiments aggregate CONFIG --scores NEW_FOLDER`"
        )


def prepare(cfg: ExperimentsConfig, progress: bool = True) -> tuple[Path, str]:
    """Write the specs file and build (or reuse) the trunk cache; return (specs, trunk path)."""
    from instructmine import atomic
    from instructmine.rule.trunk_cache import cache_for_pool

    work = Path(cfg.work_dir)
    specs = make_specs(cfg)
    specs_path = work / "specs.jsonl"
    check_finished_specs(specs_path, specs, Path(cfg.out))
    atomic.write_text(specs_path, "".join(json.dumps(s) + "\n" for s in specs))
    wanted = {r for s in specs for r in s["record_ids"]}
    cache = cache_for_pool(cfg.proxy, cfg.pool, cfg.eval, cfg.trunk_dir, wanted, progress)
    atomic.write_json(work / "trunk.json", {"trunk_cache": str(cache.path)})
    return specs_path, str(cache.path)


def check_protocol(table: Path, protocol: str) -> None:
    """Refuse to mix protocols in one table."""
    other = {r["protocol"] for r in read_rows(table)} - {protocol}
    if other:
        raise ValueError(
            f"{table} holds rows of another proxy protocol ({sorted(other)}), this config is "
            f"{protocol}: write to a new `out` table"
        )


def _report(row: dict[str, Any]) -> None:
    from rich.console import Console

    Console(stderr=True).print(
        f"[pid {os.getpid()}] {row['experiment_id']}: eval loss {row['eval_loss']:.4f} "
        f"(base {row['base_eval_loss']:.4f}) in {row['seconds']:.0f} s",
        highlight=False,
        markup=False,
    )


def experiments_stage(cfg: ExperimentsConfig) -> Stage:
    """The experiments stage: pool, scores and eval set in, the table out; keyed on the config
    without its execution settings, paths and trunk folder (they change no row)."""
    from instructmine.execute import results_config

    config = results_config(cfg)
    for key in ("pool", "scores", "eval", "out", "work_dir", "trunk_dir"):
        config.pop(key, None)
    inputs = {"pool": cfg.pool, "eval": cfg.eval}
    if cfg.scores is not None:
        inputs["scores"] = cfg.scores
    return Stage("experiments", STAGE_VERSION, config, inputs, outputs=[cfg.out])


def run_experiments(
    cfg: ExperimentsConfig, progress: bool = True, limit: int | None = None
) -> RunSummary:
    """Prepare specs and trunk cache, then run every pending experiment on the execution
    engine (:mod:`instructmine.execute`): ``workers`` local processes, or Ray tasks with
    ``runner: ray``. ``limit`` caps how many experiments this call runs (for tests; a call
    that leaves experiments undone writes no manifest). Skipped when ``OUT.experiments.json``
    shows the same inputs and config and an untouched table."""
    stage = experiments_stage(cfg)
    manifest = manifest_path(cfg.out, "experiments")
    done = stage.done(manifest)
    if done is not None:
        return RunSummary.stored(strip_stage(done)).mark(stage, manifest, True)
    stage.start(manifest)
    summary = _run(cfg, progress, limit)
    if len(experiments_table(cfg.out).done_keys()) >= summary.total:
        stage.write(manifest, summary_dict(summary))
    return summary.mark(stage, manifest, False)


def _run(cfg: ExperimentsConfig, progress: bool, limit: int | None) -> RunSummary:
    from instructmine.execute import Unit, from_config, run_units

    if from_config(cfg)["backend"] == "ray":
        from instructmine.cluster import import_ray

        import_ray()  # a missing extra is reported before the trunk cache is built
    check_protocol(Path(cfg.out), cfg.proxy.protocol())
    specs_path, trunk = prepare(cfg, progress)
    specs = [json.loads(line) for line in Path(specs_path).read_text("utf-8").splitlines()]
    table = experiments_table(cfg.out)
    before = len(table.all_rows())
    proxy = cfg.proxy.model_dump()
    done = table.done_keys()
    pending = [s for s in specs if s["experiment_id"] not in done][:limit]
    report = run_units(
        [Unit(s["experiment_id"], (s, proxy, trunk)) for s in pending],
        run_experiment,
        table,
        claims=Path(cfg.work_dir) / "claims",
        on_row=_report,
        what="experiment(s)",
        **from_config(cfg),
    )
    return RunSummary(len(specs), before, report.ran, str(cfg.out), trunk)


def summary_dict(summary: RunSummary) -> dict[str, Any]:
    """JSON-ready summary (with ``skipped``, ``outputs`` and ``manifest``)."""
    return {**asdict(summary), **summary.stage_fields()}
