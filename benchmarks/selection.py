"""Diversity-aware selection (DEITA's filter in ``select.walk``): faiss vs numpy, speed + memory.

    python benchmarks/selection.py [--sizes 100000 1000000] [--dim 384] [--top 10000]
                                   [--diverse 0.9] [--centres 0.02] [--results RESULTS.md]

For each pool size N, N random 384-d vectors (clustered: ``centres·N`` Gaussian centres plus
Gaussian noise of 0.15-0.6 times their scale, so near-duplicates exist and the filter skips
some records; ``--centres 0`` for plain Gaussian vectors) and random scores are made with a
fixed seed, and the same walk
(``walk(ids, scores, n=top, vectors=..., diverse=...)``, as ``instructmine select --diverse``
runs it) is timed with the numpy backend (chunked brute-force matrix products) and the faiss
backend (``IndexFlatIP``). Each run is a fresh child process, so its peak RSS (``ru_maxrss``)
minus its RSS just before the walk is the walk's own memory. At every N the two backends'
chosen ids are compared. The 1-minute load average (``uptime``) is printed with every number:
the machine is shared. ``--results`` appends a Markdown section to that file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_data(n: int, dim: int, centres: float, seed: int = 0):
    """``(ids, scores, vectors)``; vectors built in chunks (no N×dim temporaries)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    vectors = np.empty((n, dim), dtype=np.float32)
    k = int(centres * n)
    c = rng.standard_normal((k, dim), dtype=np.float32) if k else None
    for start in range(0, n, 65536):
        stop = min(n, start + 65536)
        block = rng.standard_normal((stop - start, dim), dtype=np.float32)
        if c is not None:  # noise 0.15-0.6 of a centre's length: cosines ~0.8-0.98 in a cluster
            block *= rng.uniform(0.15, 0.6, (stop - start, 1)).astype(np.float32)
            block += c[rng.integers(0, k, stop - start)]
        vectors[start:stop] = block
    scores = rng.random(n)
    ids = np.asarray([f"r{i:08d}" for i in range(n)], dtype=object)
    return ids, scores, vectors


def child(args: argparse.Namespace) -> None:
    """One timed walk in this process; prints a JSON line, saves the chosen positions."""
    import numpy as np
    import psutil

    from instructmine.select.walk import walk

    ids, scores, vectors = make_data(args.n, args.dim, args.centres)
    before = psutil.Process().memory_info().rss
    start = time.perf_counter()
    result = walk(
        ids, scores, n=args.top, vectors=vectors, diverse=args.diverse, backend=args.backend
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    np.save(args.save, result.chosen)
    print(
        json.dumps(
            {
                "n": args.n,
                "backend": args.backend,
                "seconds": seconds,
                "walk_peak_mb": max(0, peak - before) / 2**20,
                "vectors_mb": vectors.nbytes / 2**20,
                "chosen": len(result.chosen),
                "skipped": result.skipped["diversity"],
                "scanned": len(result.chosen) + result.skipped["diversity"],
            }
        )
    )


def load() -> float:
    return os.getloadavg()[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--top", type=int, default=10_000)
    p.add_argument("--diverse", type=float, default=0.9)
    p.add_argument("--centres", type=float, default=0.02)
    p.add_argument("--results", type=Path)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--backend", help=argparse.SUPPRESS)
    p.add_argument("--save", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    import numpy as np

    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="selection-bench-"))
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    for n in args.sizes:
        for backend in ("numpy", "faiss"):
            l0 = load()
            cmd = [
                sys.executable,
                __file__,
                "--child",
                "--n",
                str(n),
                "--backend",
                backend,
                "--save",
                str(tmp / f"{n}-{backend}.npy"),
                "--dim",
                str(args.dim),
                "--top",
                str(args.top),
                "--diverse",
                str(args.diverse),
                "--centres",
                str(args.centres),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row["load"] = f"{l0:.1f} → {load():.1f}"
            rows.append(row)
            print(row, flush=True)
    same = {}
    for n in args.sizes:
        a, b = np.load(tmp / f"{n}-numpy.npy"), np.load(tmp / f"{n}-faiss.npy")
        same[n] = bool(np.array_equal(a, b))
        print(f"N={n}: faiss and numpy chose identical ids: {same[n]} ({len(a)} vs {len(b)})")
    shutil.rmtree(tmp, ignore_errors=True)
    identical = ", ".join(f"N={n:,}: **{v}**" for n, v in same.items())
    by = {(r["n"], r["backend"]): r for r in rows}
    lines = [
        "| N | backend | walk s | numpy/faiss time | walk peak RSS (MB) | vectors (MB) "
        "| chosen | skipped | load (1-min, start → end) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ratio = by[(r["n"], "numpy")]["seconds"] / by[(r["n"], "faiss")]["seconds"]
        lines.append(
            f"| {r['n']:,} | {r['backend']} | {r['seconds']:.2f} | "
            f"{ratio:.2f}× | {r['walk_peak_mb']:.0f} | {r['vectors_mb']:.0f} | "
            f"{r['chosen']:,} | {r['skipped']:,} | {r['load']} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.results:
        cmd = "python benchmarks/selection.py " + " ".join(sys.argv[1:])
        with open(args.results, "a", encoding="utf-8") as f:
            f.write(
                f"\n### Diversity-aware selection: faiss vs numpy ({time.strftime('%Y-%m-%d')})\n\n"
                f"`PYTHONPATH=src {cmd}` — shared machine (2 cores, other jobs running; "
                f"`uptime` load shown per row). Top {args.top:,} by random scores, cosine "
                f"threshold {args.diverse}, {args.dim}-d clustered random vectors "
                f"({args.centres:g}·N Gaussian centres + Gaussian noise of 0.15–0.6 × their "
                f"scale). numpy and faiss chose identical ids (same order): {identical}.\n\n"
                f"{table}\n"
            )


if __name__ == "__main__":
    main()
