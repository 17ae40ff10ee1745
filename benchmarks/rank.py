"""Ranking speed and memory: ``instructmine rank`` (streamed external sort) vs a whole-table sort.

For each pool size, a synthetic score file (``id``, ``reward``, ``mtld``; Parquet, row groups of
65,536 rows, as a chunked writer makes them) is ranked by a two-term rule:

- ``rank``: :func:`instructmine.rule.rank.rank_pool` (batches of 65,536 rows, sorted runs on
  disk, k-way merge), output ``rank, id, predicted_log_loss, row``;
- ``whole``: the baseline, pyarrow all in memory: ``read_table``, predict, ``sort_indices``,
  ``take``, ``write_table`` (same output columns).

Each run is a fresh subprocess, so peak RSS (``ru_maxrss``) and Arrow's ``max_memory`` are its
own; RSS after imports is reported too. Records/s = pool size / wall seconds of the work (not
the imports); records per CPU second (user + system of the process, all threads) is less
sensitive to other jobs on the cores. The machine is shared: the 1-minute load from ``uptime``
is recorded at the start and end of every run.

Run: ``.venv/bin/python benchmarks/rank.py [--sizes 1000000 10000000] [--append]``
(``--append`` adds the results table to benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROW_GROUP = 65536
TERMS = [("reward", -0.2, 1.0, 2.0), ("mtld", 0.1, 50.0, 10.0)]


def make_pool(path: Path, n: int, chunk: int = 1_000_000) -> Path:
    """A synthetic score file of ``n`` records, written chunk by chunk."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    schema = pa.schema([("id", pa.string()), ("reward", pa.float64()), ("mtld", pa.float64())])
    with pq.ParquetWriter(path, schema) as w:
        for start in range(0, n, chunk):
            k = min(chunk, n - start)
            nums = pa.array(np.arange(start, start + k)).cast(pa.string())
            ids = pc.binary_join_element_wise("rec-", nums, "")
            t = pa.table(
                {"id": ids, "reward": rng.normal(0, 1, k), "mtld": rng.normal(50, 10, k)},
                schema=schema,
            )
            w.write_table(t, row_group_size=ROW_GROUP)
    return path


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, scores: str, out: str) -> dict:
    """One measured run (in its own process)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from instructmine.rule.rank import rank_pool
    from instructmine.rule.rules import Rule, RuleTerm

    rule = Rule(
        name="bench",
        intercept=0.5,
        terms=[RuleTerm(aggregate=f"{c}.mean", coef=b, mean=m, std=s) for c, b, m, s in TERMS],
    )
    rss_imports = _rss_mb()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    if mode == "rank":
        n = rank_pool(scores, rule, out).records
    else:
        t = pq.read_table(scores)
        pred = rule.predict({c: t[c].to_numpy() for c in rule.columns})
        order = pc.sort_indices(pa.table({"p": pred}), sort_keys=[("p", "ascending")])
        n = t.num_rows
        ranked = pa.table(
            {
                "rank": pa.array(np.arange(1, n + 1)),
                "id": t["id"].take(order),
                "predicted_log_loss": pa.array(pred).take(order),
                "row": order,
            }
        )
        pq.write_table(ranked, out)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return {
        "mode": mode,
        "records": n,
        "seconds": seconds,
        "records_per_s": n / seconds,
        "cpu_seconds": cpu,
        "records_per_cpu_s": n / cpu,
        "peak_rss_mb": _rss_mb(),
        "rss_after_imports_mb": rss_imports,
        "arrow_max_mb": pa.default_memory_pool().max_memory() / 2**20,
    }


def load() -> str:
    """The 1-minute load average, as ``uptime`` reports it."""
    return f"{os.getloadavg()[0]:.2f}"


def measure(mode: str, scores: Path, out: Path) -> dict:
    """Run ``child`` in a fresh subprocess; add the load at start and end."""
    start = load()
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    cmd = [sys.executable, __file__, "--child", mode, str(scores), str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if r.returncode:
        raise RuntimeError(f"{mode} failed: {r.stderr[-2000:]}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["load"] = f"{start} → {load()}"
    return res


def table(results: list[dict], command: str) -> str:
    """The results as a RESULTS.md section."""
    lines = [
        "",
        f"### Ranking at scale (`rank` vs whole-table pyarrow sort), {time.strftime('%Y-%m-%d')}",
        "",
        f"Command: `{command}`. Shared machine (2 cores, other jobs running): 1-minute load "
        "from `uptime` at start → end of each run. Synthetic scores, Parquet row groups of "
        f"{ROW_GROUP:,}; rank's batch 65,536 rows. Peak RSS includes the interpreter and "
        "imports (RSS after imports in brackets).",
        "",
        "| records | method | wall s | records/s | CPU s | records/CPU s "
        "| peak RSS MB (after imports) | Arrow max MB | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['records']:,} | {r['mode']} | {r['seconds']:.1f} | {r['records_per_s']:,.0f} "
            f"| {r['cpu_seconds']:.1f} | {r['records_per_cpu_s']:,.0f} "
            f"| {r['peak_rss_mb']:,.0f} ({r['rss_after_imports_mb']:,.0f}) "
            f"| {r['arrow_max_mb']:,.1f} | {r['load']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Measure every size both ways; print (and optionally append) the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--append", action="store_true", help="append to benchmarks/RESULTS.md")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--make", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    if args.make:
        make_pool(Path(args.make[1]), int(args.make[0]))
        return
    command = "python benchmarks/rank.py " + " ".join(sys.argv[1:])
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="rank-bench-"))  # outside the repository
    try:
        for n in args.sizes:
            # in a subprocess: ru_maxrss survives fork + exec, so a parent grown by making the
            # pool would lend its RSS to every measured child
            scores = tmp / f"scores-{n}.parquet"
            subprocess.run([sys.executable, __file__, "--make", str(n), str(scores)], check=True)
            for mode in ("rank", "whole"):
                res = measure(mode, scores, tmp / f"{mode}-{n}.parquet")
                print(json.dumps(res), flush=True)
                results.append(res)
            for f in tmp.iterdir():
                f.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = table(results, command)
    print(text)
    if args.append:
        with (REPO / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
