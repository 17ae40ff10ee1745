"""Judge a proxy protocol (issue 13): cost per experiment, signal-to-noise, agreement.

    python benchmarks/proxy.py TABLE [--specs SPECS] [--pool POOL --eval EVAL --reference N]

From an experiments table (``instructmine experiments run``): the proxy's seconds per
experiment and its signal-to-noise (spread of seed-0 eval loss across sub-datasets over the
pooled seed-to-seed SD). With ``--reference N``, N seed-0 sub-datasets evenly spaced over the
proxy's eval-loss order are also fine-tuned with plain LoRA at a larger budget through
``instructmine.train`` (resumable: one row per sub-dataset in ``REF_TABLE``, tracked in the
repo); then the cost ratio and the Spearman agreement of the
two rankings with a bootstrap CI are printed. Every number is printed with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from instructmine.rule.experiments_table import append_row, read_rows
from instructmine.rule.proxy_stats import signal_to_noise, spearman_ci

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

    done = {r["subset_id"]: r for r in read_rows(args.ref_table)}
    have = evenly_spread(proxy_rows, args.reference)
    by_id = {s["subset_id"]: s for s in specs if s["seed"] == 0}
    work = Path(args.ref_table).with_suffix("")
    for sid in have:
        if sid in done:
            continue
        pool = work / f"{sid}.parquet"
        if not pool.exists():
            write_subset(args.pool, by_id[sid]["record_ids"], pool)
        cfg = TrainConfig.model_validate({**REFERENCE, "eval_data": str(args.eval), "seed": 0})
        res = train(pool, work / sid, cfg, progress=False, overwrite=True)
        row = {
            "experiment_id": f"{sid}-ref",
            "subset_id": sid,
            "seed": 0,
            "n_records": res.n_records,
            "sources": by_id[sid]["sources"],
            "eval_loss": res.eval_loss_after,
            "base_eval_loss": res.eval_loss_before,
            "seconds": res.wall_seconds,
            "protocol": "reference-lora",
        }
        append_row(args.ref_table, row)
        done[sid] = row
        print(f"reference {sid}: {row['eval_loss']:.4f} in {row['seconds']:.0f} s", flush=True)
    seed0 = {r["subset_id"] for r in proxy_rows if r["seed"] == 0}
    return [r for sid, r in done.items() if sid in seed0]  # every finished one counts


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
        ref = reference_rows(args, specs, rows)
        proxy = {r["subset_id"]: r["eval_loss"] for r in rows if r["seed"] == 0}
        ref_secs = [r["seconds"] for r in ref]
        report["reference_seconds_median"] = statistics.median(ref_secs) if ref_secs else None
        if ref_secs and secs:
            report["cost_ratio"] = statistics.median(ref_secs) / statistics.median(secs)
        if len(ref) >= 3:
            agree = spearman_ci([proxy[r["subset_id"]] for r in ref], [r["eval_loss"] for r in ref])
            report["spearman"] = agree.__dict__
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
