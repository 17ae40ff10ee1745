"""Proxy experiment cost and memory: the chunked loss + micro-batches vs the old full-logits path.

Both sides run :func:`instructmine.proxy.run.run_proxy` with the protocol of the real run
(``benchmarks/rule_experiments.yaml``: L20-full, 36 steps × 8 × 256, 80 self-instruct eval
items) on the same trunk cache and sub-datasets; they differ only in ``loss_chunk`` /
``micro_batch_tokens`` (old: 0 / 0; new: the defaults). The sub-datasets are stand-ins built
from the shared data (288 alpaca_5000 records, 288 dolly records, and half of each), as the
real run's candidate pool and specs are not kept in the repository. Each experiment runs in its
own child process under ``/usr/bin/time -v`` (peak RSS), on every core, sides interleaved
(old, new per sub-dataset). Rows are appended to ``--table`` (resumable).

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/proxy_memory.py [--subsets 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = (REPO / ".." / "shared" / "data").resolve()
OUT = REPO / "benchmarks" / "out" / "proxy_memory"
SIDES = {"old": {"loss_chunk": 0, "micro_batch_tokens": 0}, "new": {}}

CHILD = """
import json, sys
from instructmine.proxy.config import ProxyConfig
from instructmine.proxy.run import run_proxy
from instructmine.proxy.trunk_cache import open_cache
job = json.load(sys.stdin)
res = run_proxy(ProxyConfig(**job["proxy"]), open_cache(job["cache"]), job["ids"], 0)
print(json.dumps(res.__dict__))
"""


def proxy_settings() -> dict:
    import yaml

    cfg = yaml.safe_load((REPO / "benchmarks" / "rule_experiments.yaml").read_text())
    return {**cfg["proxy"], "threads": os.cpu_count()}


def prepare(n_subsets: int) -> tuple[str, dict[str, list[str]]]:
    """Ingest the sources, pick the first ``n_subsets`` stand-in sub-datasets, build the trunk
    cache over their records once."""
    import pyarrow.parquet as pq

    from instructmine.io import ingest
    from instructmine.proxy.config import ProxyConfig
    from instructmine.proxy.run import base_loss
    from instructmine.proxy.trunk_cache import cache_for_pool

    OUT.mkdir(parents=True, exist_ok=True)
    pool, evals = OUT / "pool.parquet", OUT / "eval.parquet"
    ingest([DATA / "alpaca_5000" / "alpaca_5000.json.gz", DATA / "alpagasus" / "dolly_3k.json.gz"],
           pool)  # fmt: skip
    ingest([DATA / "self_instruct_user_oriented" / "user_oriented_instructions.jsonl"], evals)
    table = pq.read_table(pool, columns=["id", "source"])
    rows = list(
        zip(table.column("id").to_pylist(), table.column("source").to_pylist(), strict=True)
    )
    rng = random.Random(0)
    alpaca = rng.sample(sorted(i for i, s in rows if "alpaca" in s), 288)
    dolly = rng.sample(sorted(i for i, s in rows if "dolly" in s), 288)
    subsets = {"alpaca288": alpaca, "dolly288": dolly, "half144": alpaca[:144] + dolly[:144]}
    subsets = dict(list(subsets.items())[:n_subsets])
    cfg = ProxyConfig(**proxy_settings())
    ids = {i for v in subsets.values() for i in v}
    cache = cache_for_pool(cfg, pool, evals, OUT / "trunk", ids=ids)
    base_loss(cfg, cache)  # memoised in the cache: no child pays for it
    return str(cache.path), subsets


def run_child(cache: str, ids: list[str], side: str, steps: int | None) -> dict:
    proxy = {**proxy_settings(), **SIDES[side]} | ({"steps": steps} if steps else {})
    job = json.dumps({"proxy": proxy, "cache": cache, "ids": ids})
    load = os.getloadavg()[0]
    proc = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-c", CHILD],
        input=job,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"proxy child ({side}) failed")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    row.update(side=side, peak_rss_gb=int(kb.group(1)) / 1024**2, load_before=load,
               load_after=os.getloadavg()[0])  # fmt: skip
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subsets", type=int, default=3, help="stand-in sub-datasets to run")
    ap.add_argument("--table", type=Path, default=OUT / "rows.jsonl")
    ap.add_argument("--steps", type=int, help="training steps (default: the protocol's 36)")
    args = ap.parse_args()
    cache, subsets = prepare(args.subsets)
    done = (
        [json.loads(x) for x in args.table.read_text().splitlines()] if args.table.exists() else []
    )
    done = [r for r in done if r.get("steps_arg") == args.steps]
    seen = {(r["subset"], r["side"]) for r in done}
    for name in subsets:
        for side in SIDES:
            if (name, side) in seen:
                continue
            row = run_child(cache, subsets[name], side, args.steps)
            row |= {"subset": name, "steps_arg": args.steps}
            with args.table.open("a") as f:
                f.write(json.dumps(row) + "\n")
            done.append(row)
            print(
                f"{name} {side}: {row['seconds']:.1f} s, peak RSS {row['peak_rss_gb']:.2f} GB, "
                f"eval loss {row['eval_loss']:.5f} (load {row['load_before']:.1f} → "
                f"{row['load_after']:.1f})",
                flush=True,
            )
    by = {(r["subset"], r["side"]): r for r in done}
    pairs = [
        (by[(s, "old")], by[(s, "new")]) for s in subsets if (s, "old") in by and (s, "new") in by
    ]
    if pairs:
        report = {
            "pairs": len(pairs),
            "time_ratio_new_over_old": statistics.median(
                n["seconds"] / o["seconds"] for o, n in pairs
            ),
            "peak_rss_gb_old_max": max(o["peak_rss_gb"] for o, _ in pairs),
            "peak_rss_gb_new_max": max(n["peak_rss_gb"] for _, n in pairs),
            "eval_loss_abs_diff_max": max(abs(n["eval_loss"] - o["eval_loss"]) for o, n in pairs),
        }
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
