"""Ray runner overhead vs the local runner on the same cores, and a capacity estimate.

Scores the same pool (real alpagasus/random_9k records) twice per indicator set, local runner
then Ray runner, alternating ``--repeats`` times, each into a fresh folder, and reports the
best wall time of each and their ratio (goal: Ray ≤ 1.2× local). The Ray side is a private
single-node cluster on this machine's cores (``--cpus``), started before timing (attaching to
a running cluster is what users do; the start-up is reported apart). Scores are checked equal.

Sets: ``cheap`` = input_length, output_length, mtld (SmolLM2 tokenizer, no model);
``ppl`` = SmolLM2-135M perplexity (``--ppl-records`` records; torch gets ``--cpus`` threads in
the local run and ``--cpus / --actors`` in each Ray actor: the same cores).

Then a capacity estimate for 10M records and 500 proxy experiments on N nodes, from the
measured per-record costs, the default set's measured cost (benchmarks/RESULTS.md: 9,225
records in ≈ 67 min here) and the proxy's ≈ 322 s per experiment on this CPU.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/ray.py [--records 9000] [--ppl-records 200]``
(``--records`` above the file's ≈ 9k repeats records under new ids, to separate the Ray
runner's fixed start-up cost from its per-record cost.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# this file is called ray.py: keep its folder off the path so `import ray` finds Ray
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # no token file written into $HOME
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

DEFAULT_SET_S_PER_RECORD = 67 * 60 / 9225  # benchmarks/RESULTS.md, default set, this CPU
PROXY_S_PER_EXPERIMENT = 322.0  # L20-full on this CPU (benchmarks/RESULTS.md, issue 13)


def _load() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.2f}/{b:.2f}/{c:.2f}"


def _time_pair(pool, make, tmp: Path, cpus: int, actors: int, window: int, threads: bool):
    """One local and one Ray run; with ``threads``, torch gets every core (local) or its
    share (each actor), so both use the same cores."""
    import pyarrow.parquet as pq

    from instructmine.runners.local import run_local
    from instructmine.runners.ray_runner import RayScoreOptions, run_ray

    out = {}
    for runner in ("local", "ray"):
        dest = tmp / f"{runner}-{time.monotonic_ns()}"
        inds = make()
        start = time.perf_counter()
        if runner == "local":
            t = cpus if threads else None
            files = run_local(pool, inds, dest, window=window, progress=False, threads=t)
        else:
            opts = RayScoreOptions(address=None, actors=actors, num_cpus=cpus / actors / 2)
            t = max(1, cpus // actors) if threads else None
            files = run_ray(pool, inds, dest, options=opts, window=window, threads=t)
        out[runner] = (time.perf_counter() - start, {k: pq.read_table(v) for k, v in files.items()})
        shutil.rmtree(dest, ignore_errors=True)
    return out


def measure(name, pool, make, tmp, args, threads) -> dict:
    """Best-of-``repeats`` wall times of both runners on one indicator set."""
    import pyarrow.parquet as pq

    n = pq.read_metadata(pool).num_rows
    best = {"local": float("inf"), "ray": float("inf")}
    same = True
    for _ in range(args.repeats):
        pair = _time_pair(pool, make, tmp, args.cpus, args.actors, args.window, threads)
        for runner, (secs, _) in pair.items():
            best[runner] = min(best[runner], secs)
        for k, table in pair["local"][1].items():
            same &= table.equals(pair["ray"][1][k])
    row = {
        "set": name,
        "records": n,
        "local_s": best["local"],
        "ray_s": best["ray"],
        "ratio": best["ray"] / best["local"],
        "local_s_per_record": best["local"] / n,
        "identical": same,
    }
    print(
        f"{name}: {n} records, local {best['local']:.2f} s, ray {best['ray']:.2f} s, "
        f"ratio {row['ratio']:.2f}x, identical {same}, load {_load()}",
        flush=True,
    )
    return row


def capacity(rows: list[dict], nodes=(1, 4, 16, 64)) -> str:
    """A markdown capacity estimate from the measured costs."""
    lines = [
        "| N nodes | 10M records, cheap set (CPU node = this machine) "
        "| 10M records, default set (CPU) | 500 proxy experiments (CPU, 1 per node) |",
        "|---:|---:|---:|---:|",
    ]
    cheap = next((r for r in rows if r["set"] == "cheap"), None)
    for n in nodes:
        c = f"{10e6 * cheap['local_s_per_record'] / n / 3600:.1f} h" if cheap else "-"
        d = f"{10e6 * DEFAULT_SET_S_PER_RECORD / n / 3600:.0f} h"
        e = f"{-(-500 // n) * PROXY_S_PER_EXPERIMENT / 3600:.1f} h"
        lines.append(f"| {n} | {c} | {d} | {e} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=9000)
    parser.add_argument("--ppl-records", type=int, default=200)
    parser.add_argument("--sets", nargs="+", default=["cheap", "ppl"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--window", type=int, default=2048)
    args = parser.parse_args()

    import importlib.util

    import pyarrow.parquet as pq
    import ray

    spec = importlib.util.spec_from_file_location("bench_score", HERE / "score.py")
    bench_score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_score)

    def alpagasus_records(n: int) -> list[dict]:
        """``n`` real records; beyond the file's ≈ 9k, repeated under new ids."""
        base = bench_score.alpagasus_records(min(n, 9000))
        return [{**base[i % len(base)], "id": f"r{i:08d}"} for i in range(n)]

    import signal

    from instructmine.indicators.registry import create
    from instructmine.schema import table_from_records

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop: shut Ray down too
    tmp = Path(tempfile.mkdtemp(prefix="bench-ray-", dir="/tmp"))
    start = time.perf_counter()
    ray.init(
        num_cpus=args.cpus,
        object_store_memory=300 * 1024 * 1024,
        include_dashboard=False,
        log_to_driver=False,
        _temp_dir=str(tmp / "ray"),
    )
    print(f"private Ray cluster up in {time.perf_counter() - start:.1f} s; load {_load()}")
    rows = []
    try:
        if "cheap" in args.sets:
            pool = tmp / "cheap.parquet"
            pq.write_table(table_from_records(alpagasus_records(args.records)), pool)

            def cheap():
                return [create("input_length"), create("output_length"), create("mtld")]

            rows.append(measure("cheap", pool, cheap, tmp, args, False))
        if "ppl" in args.sets:
            pool = tmp / "ppl.parquet"
            pq.write_table(table_from_records(alpagasus_records(args.ppl_records)), pool)
            # windows of n / actors records, so each actor gets one (the same windows locally)
            window = -(-args.ppl_records // args.actors)
            ppl_args = argparse.Namespace(**{**vars(args), "window": window})
            rows.append(measure("ppl", pool, lambda: [create("perplexity")], tmp, ppl_args, True))
    finally:
        ray.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    print(capacity(rows))


if __name__ == "__main__":
    main()
