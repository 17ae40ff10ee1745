"""The experiments stage: sample sub-datasets, run one proxy fine-tune each, append rows.

:func:`run_experiment` is the unit of work: plain JSON-able arguments in, one table row out,
so a Ray task can call it unchanged. :func:`run_experiments` prepares the specs (sampling) and
the shared trunk cache, then works through the specs in one or several local processes.
Resumable: an experiment whose row is in the table is never re-run; each running experiment
holds an ``flock`` on its claim file, which the kernel releases if the process dies (SIGKILL
included), so a killed experiment is simply picked up again by the next run.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from instructmine.proxy.config import ProxyConfig
from instructmine.rule.experiments_config import ExperimentsConfig
from instructmine.rule.experiments_table import append_row, read_rows


@dataclass
class RunSummary:
    """What a call of :func:`run_experiments` did."""

    total: int
    done_before: int
    ran: int
    table: str
    trunk_cache: str


def run_experiment(spec: dict[str, Any], proxy: dict[str, Any], trunk_path: str) -> dict:
    """Run one proxy experiment and return its table row (does not write anything).

    ``spec``: ``experiment_id``, ``subset_id``, ``seed``, ``record_ids``, ``sources``,
    ``aggregates``; ``proxy``: a :class:`ProxyConfig` as a dict; ``trunk_path``: a built trunk
    cache folder.
    """
    from instructmine.proxy.run import run_proxy
    from instructmine.proxy.trunk_cache import open_cache

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
    from instructmine.proxy.trunk_cache import cache_for_pool

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


def work_loop(specs_path: str, cfg_json: str, trunk_path: str, limit: int | None = None) -> int:
    """Run pending specs one by one (claimed by flock); return how many this process ran."""
    from rich.console import Console

    from instructmine import atomic

    cfg = ExperimentsConfig.model_validate_json(cfg_json)
    console = Console(stderr=True)
    claims = Path(cfg.work_dir) / "claims"
    proxy = cfg.proxy.model_dump()
    ran = 0
    for line in Path(specs_path).read_text(encoding="utf-8").splitlines():
        if limit is not None and ran >= limit:
            break
        spec = json.loads(line)
        eid = spec["experiment_id"]
        if eid in {r["experiment_id"] for r in read_rows(cfg.out)}:
            continue
        fd = atomic.claim(claims / f"{eid}.lock")
        if fd is None:
            continue
        try:
            if eid in {r["experiment_id"] for r in read_rows(cfg.out)}:
                continue
            os.write(fd, f"{os.getpid()} {eid}\n".encode())  # who runs what, for operators
            row = run_experiment(spec, proxy, trunk_path)
            append_row(cfg.out, row)
            ran += 1
            console.print(
                f"[pid {os.getpid()}] {eid}: eval loss {row['eval_loss']:.4f} "
                f"(base {row['base_eval_loss']:.4f}) in {row['seconds']:.0f} s"
            )
        finally:
            os.ftruncate(fd, 0)
            os.close(fd)
    return ran


def run_experiments(
    cfg: ExperimentsConfig, progress: bool = True, limit: int | None = None
) -> RunSummary:
    """Prepare specs and trunk cache, then run every pending experiment with ``cfg.workers``
    local processes, or as Ray tasks with ``runner: ray``. ``limit`` caps how many
    experiments each local process runs (for tests)."""
    import multiprocessing as mp

    if cfg.runner == "ray":
        from instructmine.cluster import import_ray

        import_ray()  # a missing extra is reported before the trunk cache is built
    check_protocol(Path(cfg.out), cfg.proxy.protocol())
    specs_path, trunk = prepare(cfg, progress)
    total = len(Path(specs_path).read_text(encoding="utf-8").splitlines())
    before = len(read_rows(cfg.out))
    args = (str(specs_path), cfg.model_dump_json(), trunk, limit)
    if cfg.runner == "ray":
        from instructmine.rule.experiments_ray import run_on_ray

        ran = run_on_ray(specs_path, cfg, trunk)
    elif cfg.workers == 1:
        ran = work_loop(*args)
    else:
        ctx = mp.get_context("spawn")
        with ctx.Pool(cfg.workers) as pool:
            ran = sum(pool.starmap(work_loop, [args] * cfg.workers))
    return RunSummary(total, before, ran, str(cfg.out), trunk)


def summary_dict(summary: RunSummary) -> dict[str, Any]:
    """JSON-ready summary."""
    return asdict(summary)
