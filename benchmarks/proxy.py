"""Judge a proxy protocol (issue 13): cost per experiment, signal-to-noise, agreement.

    python benchmarks/proxy.py TABLE [--specs SPECS] [--pool POOL --eval EVAL --reference N]

From an experiments table (``instructmine experiments run``): the proxy's seconds per
experiment and its signal-to-noise (spread of seed-0 eval loss across sub-datasets over the
pooled seed-to-seed SD). With ``--reference N``, N seed-0 sub-datasets evenly spaced over the
proxy's eval-loss order are also fine-tuned with plain LoRA at a larger budget through
``instructmine.train`` (resumable: one row per sub-dataset in ``REF_TABLE``, tracked in the
repo); then the cost ratio and the Spearman agreement of the
two rankings with a bootstrap CI are printed. With ``--time K`` (and ``--config``), the proxy
itself is re-run on K of those sub-datasets in this script, one child process at a time on
every core (as the reference runs), so the cost ratio and the proxy's peak RSS come from the
same conditions (rows in ``TIME_TABLE``, resumable). Every number is printed with the load
average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from instructmine.proxy.stats import signal_to_noise, spearman_ci
from instructmine.rule.experiments_table import append_row, read_rows

REFERENCE = {  # plain LoRA, larger budget: the quantity the proxy stands in for
    "method": "lora",
    "max_length": 256,
    "eval_max_records": 80,
    "eval_max_length": 512,
    "sft": {
        "max_steps": 72,
        "per_device_train_batch_size": 8,
        "learning_rate": 2e-4,
    },
}


def evenly_spread(rows: list[dict], n: int) -> list[str]:
    """``n`` seed-0 sub-datasets evenly spaced over the proxy's eval-loss order (the range the
    rule is fitted on, not the first n rows of the table, which are all source mixtures)."""
    ranked = sorted((r["eval_loss"], r["subset_id"]) for r in rows if r["seed"] == 0)
    if n >= len(ranked):
        return [sid for _, sid in ranked]
    step = (len(ranked) - 1) / max(1, n - 1)
    return [ranked[round(i * step)][1] for i in range(n)]


def reference_rows(args, specs: list[dict], proxy_rows: list[dict]) -> list[dict]:
    """Run (or reuse) the LoRA reference on ``args.reference`` seed-0 sub-datasets spread over
    the proxy's range (:func:`evenly_spread`)."""
    from instructmine.io.pool import write_subset
    from instructmine.train import TrainConfig, train

    done = {(r["subset_id"], r["seed"]): r for r in read_rows(args.ref_table)}
    have = evenly_spread(proxy_rows, args.reference)
    by_id = {s["subset_id"]: s for s in specs if s["seed"] == 0}
    work = Path(args.ref_table).with_suffix("")
    jobs = [(sid, 0) for sid in have] + [(sid, 1) for sid in args.ref_noise]
    for sid, seed in jobs:
        if (sid, seed) in done:
            continue
        pool = work / f"{sid}.parquet"
        if not pool.exists():
            write_subset(args.pool, by_id[sid]["record_ids"], pool)
        cfg = TrainConfig.model_validate({**REFERENCE, "eval_data": str(args.eval), "seed": seed})
        run_dir = work / (sid if seed == 0 else f"{sid}-s{seed}")
        res = train(pool, run_dir, cfg, progress=False, overwrite=True)
        row = {
            "experiment_id": f"{sid}-ref" if seed == 0 else f"{sid}-ref-s{seed}",
            "subset_id": sid,
            "seed": seed,
            "n_records": res.n_records,
            "sources": by_id[sid]["sources"],
            "eval_loss": res.eval_loss_after,
            "base_eval_loss": res.eval_loss_before,
            "seconds": res.wall_seconds,
            "protocol": "reference-lora",
        }
        append_row(args.ref_table, row)
        done[(sid, seed)] = row
        print(f"reference {sid} seed {seed}: {row['eval_loss']:.4f} in {row['seconds']:.0f} s")
    seed0 = {r["subset_id"] for r in proxy_rows if r["seed"] == 0}
    return [r for (sid, _), r in done.items() if sid in seed0]  # every finished one counts


def reference_noise(ref: list[dict]) -> dict | None:
    """The reference's own seed-to-seed SD (pooled over sub-datasets run at seeds 0 and 1)."""
    by: dict[str, list[float]] = {}
    for r in ref:
        by.setdefault(r["subset_id"], []).append(r["eval_loss"])
    pairs = [v for v in by.values() if len(v) > 1]
    if not pairs:
        return None
    var = statistics.fmean(statistics.variance(v) for v in pairs)
    return {"seed_sd": var**0.5, "n_subsets": len(pairs), "diffs": [v[1] - v[0] for v in pairs]}


CHILD = """
import json, sys
from instructmine.rule.experiments import run_experiment
job = json.load(sys.stdin)
print(json.dumps(run_experiment(job["spec"], job["proxy"], job["trunk"])))
"""


def time_proxy(args, specs: list[dict], subset_ids: list[str]) -> list[dict]:
    """Re-run the proxy on ``subset_ids`` (seed 0), one child process each with every core:
    the child's own seconds (as the reference's ``wall_seconds``: model load, training, eval)
    and its peak RSS from ``wait4``. Rows go to ``args.time_table``; finished ones are reused."""
    from instructmine.rule.experiments_config import load_config

    cfg = load_config(args.config)
    trunk = json.loads((Path(cfg.work_dir) / "trunk.json").read_text())["trunk_cache"]
    proxy = {**cfg.proxy.model_dump(), "threads": os.cpu_count()}
    done = {r["subset_id"]: r for r in read_rows(args.time_table)}
    by_id = {s["subset_id"]: s for s in specs if s["seed"] == 0}
    for sid in subset_ids:
        if sid in done:
            continue
        load = os.getloadavg()[0]
        job = json.dumps({"spec": by_id[sid], "proxy": proxy, "trunk": trunk})
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        child.stdin.write(job.encode())
        child.stdin.close()
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage (peak RSS)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        if child.returncode:
            raise SystemExit(f"proxy child for {sid} failed ({child.returncode})")
        row = json.loads(out.decode().strip().splitlines()[-1])
        row.update(
            experiment_id=f"{sid}-timed",
            wall=wall,
            peak_rss_gb=usage.ru_maxrss / 2**20,
            threads=proxy["threads"],
            load_before=load,
            load_after=os.getloadavg()[0],
        )
        append_row(args.time_table, row)
        done[sid] = row
        print(f"proxy {sid}: {row['eval_loss']:.4f} in {row['seconds']:.0f} s", flush=True)
    return [done[sid] for sid in subset_ids if sid in done]


def main() -> None:
    """Parse arguments and print the report as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("table", type=Path)
    ap.add_argument("--specs", type=Path, help="specs.jsonl of the run (for --reference)")
    ap.add_argument("--pool", type=Path, help="candidate pool (for --reference)")
    ap.add_argument("--eval", type=Path, help="eval pool (for --reference)")
    ap.add_argument("--reference", type=int, default=0, help="sub-datasets to re-run as LoRA")
    ap.add_argument(
        "--ref-table", type=Path, default=Path("benchmarks/results/rule/reference.jsonl")
    )
    ap.add_argument(
        "--ref-noise", nargs="*", default=[], help="sub-datasets to re-run at seed 1 (noise)"
    )
    ap.add_argument("--time", type=int, default=0, help="reference sub-datasets to re-time")
    ap.add_argument("--config", type=Path, help="experiments config of the run (for --time)")
    ap.add_argument(
        "--time-table", type=Path, default=Path("benchmarks/results/rule/proxy_timing.jsonl")
    )
    args = ap.parse_args()

    rows = read_rows(args.table)
    report: dict = {"table": str(args.table), "rows": len(rows), "load": os.getloadavg()}
    secs = [r["seconds"] for r in rows]
    report["proxy_seconds_median"] = statistics.median(secs) if secs else None
    report["base_eval_loss"] = rows[0]["base_eval_loss"] if rows else None
    try:
        report["snr"] = signal_to_noise(rows).__dict__
    except ValueError as err:
        report["snr"] = str(err)
    if args.reference:
        specs = [json.loads(x) for x in args.specs.read_text().splitlines()]
        every = reference_rows(args, specs, rows)
        report["reference_noise"] = reference_noise(every)
        ref = [r for r in every if r["seed"] == 0]
        proxy = {r["subset_id"]: r["eval_loss"] for r in rows if r["seed"] == 0}
        ref_secs = [r["seconds"] for r in ref]
        report["reference_seconds_median"] = statistics.median(ref_secs) if ref_secs else None
        if ref_secs and secs:  # the run's seconds were taken with 2 workers sharing the cores
            report["cost_ratio_vs_run_median"] = statistics.median(ref_secs) / statistics.median(
                secs
            )
        if len(ref) >= 3:
            agree = spearman_ci([proxy[r["subset_id"]] for r in ref], [r["eval_loss"] for r in ref])
            report["spearman"] = agree.__dict__
            a = [proxy[r["subset_id"]] for r in ref]
            report["pearson"] = statistics.correlation(a, [r["eval_loss"] for r in ref])
        if args.time:
            timed = time_proxy(args, specs, [r["subset_id"] for r in ref][: args.time])
            t_secs = [r["seconds"] for r in timed]
            report["proxy_timed"] = {
                "n": len(timed),
                "seconds_median": statistics.median(t_secs),
                "peak_rss_gb_max": max(r["peak_rss_gb"] for r in timed),
                "eval_loss_abs_diff_max": max(
                    abs(r["eval_loss"] - proxy[r["subset_id"]]) for r in timed
                ),
            }
            same = [r for r in ref if r["subset_id"] in {t["subset_id"] for t in timed}]
            report["cost_ratio_same_script"] = statistics.median(
                r["seconds"] for r in same
            ) / statistics.median(t_secs)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
