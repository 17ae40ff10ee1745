"""Default indicator set, records/s: this worktree's code vs main's, interleaved A B A B.

Both sides score the same real alpagasus/random_9k records with the default indicators
(input_length, output_length, mtld, perplexity, ifd, knn_6) through ``run_local``, each run in
a fresh subprocess whose ``PYTHONPATH`` points at that side's ``src``: the old side is
``git archive <base> src`` unpacked into a temporary folder (today's code on ``main``), the new
side a copy of this checkout's ``src`` taken at the start. Each child first scores a few other
records (file caches, numba kernels), then times one ``run_local`` call on the benchmark pool
(model loading included, as a user's run has it) and reports its peak RSS. Rounds alternate
old, new, old, new, ..., so a busy machine slows both sides alike; the headline is the ratio
of the summed times. Scores of the two sides are compared record by record.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/score_speed.py [--records 200] [--rounds 2]
[--base main] [--threads N] [--append-results]``
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

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "score"
WARM = 16


def child(pool: Path, warm: Path, out: Path, threads: int | None) -> None:
    """Score ``pool`` with the default set (after a warm-up run); print seconds and peak RSS."""
    import resource

    from instructmine.indicators.registry import DEFAULT_INDICATORS, create
    from instructmine.runners.local import run_local

    run_local(warm, [create(n) for n in DEFAULT_INDICATORS], out / "warm", progress=False)
    t = time.perf_counter()
    run_local(
        pool,
        [create(n) for n in DEFAULT_INDICATORS],
        out / "scores",
        progress=False,
        threads=threads,
    )
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps({"seconds": seconds, "peak_rss_gb": rss}))


def run_side(src: Path, pool: Path, warm: Path, out: Path, threads: int | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, __file__, "--child", str(pool), str(warm), str(out)]
    if threads:
        cmd += ["--threads", str(threads)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{src}: child failed\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(old: Path, new: Path) -> dict:
    """Largest per-record difference of each indicator between the two sides' score files."""
    import pyarrow.parquet as pq

    out = {}
    for f in sorted(old.glob("*.parquet")):
        a = pq.read_table(f).to_pandas().set_index("id")
        b = pq.read_table(new / f.name).to_pandas().set_index("id").loc[a.index]
        col = a.columns[0]
        x, y = a[col].to_numpy(np.float64), b[col].to_numpy(np.float64)
        rel = np.abs(x - y) / np.maximum(np.abs(x), 1e-12)
        out[col] = {"max_abs": float(np.abs(x - y).max()), "max_rel": float(rel.max())}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--base", default="main", help="git revision of the old side")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--append-results", action="store_true", help="append to RESULTS.md")
    ap.add_argument("--child", nargs=3, metavar=("POOL", "WARM", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*(Path(p) for p in args.child), threads=args.threads)
        return

    import pyarrow.parquet as pq

    sys.path.insert(0, str(REPO / "benchmarks"))
    from score import alpagasus_records

    from instructmine.schema import table_from_records

    tmp = Path(tempfile.mkdtemp(prefix="score-speed-"))
    try:
        old_src = tmp / "old"
        old_src.mkdir()
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", args.base],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", args.base, "src"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(old_src)], input=archive, check=True)
        # the new side is a copy too, so editing the checkout during a run changes nothing
        shutil.copytree(REPO / "src", tmp / "new" / "src", ignore=shutil.ignore_patterns("*.pyc"))
        sides = {"old": old_src / "src", "new": tmp / "new" / "src"}
        recs = alpagasus_records(args.records + WARM)
        warm, pool = tmp / "warm.parquet", tmp / "pool.parquet"
        pq.write_table(table_from_records(recs[:WARM]), warm)
        pq.write_table(table_from_records(recs[WARM:]), pool)
        runs: dict[str, list[dict]] = {"old": [], "new": []}
        load = [os.getloadavg()[0]]
        for r in range(args.rounds):
            for side, src in sides.items():
                out = tmp / f"{side}{r}"
                got = run_side(src, pool, warm, out, args.threads)
                runs[side].append(got)
                print(f"round {r} {side}: {got['seconds']:.1f} s", flush=True)
        load.append(os.getloadavg()[0])
        diffs = compare(tmp / "old0" / "scores", tmp / "new0" / "scores")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = args.records
    total = {s: sum(x["seconds"] for x in v) for s, v in runs.items()}
    result = {
        "records": n,
        "rounds": args.rounds,
        "base": f"{args.base} ({rev})",
        "threads": args.threads,
        "load_1min": load,
        "runs": runs,
        "old_rec_s": n * args.rounds / total["old"],
        "new_rec_s": n * args.rounds / total["new"],
        "ratio": total["old"] / total["new"],
        "round_ratios": [
            o["seconds"] / w["seconds"] for o, w in zip(runs["old"], runs["new"], strict=True)
        ],
        "diffs": diffs,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (OUT / f"speed-{stamp}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    if args.append_results:
        append_results(result)


def append_results(r: dict) -> None:
    """Append a table of this run to benchmarks/RESULTS.md."""
    cmd = "PYTHONPATH=src .venv/bin/python benchmarks/score_speed.py " + " ".join(sys.argv[1:])
    rows = "\n".join(
        f"| {i} | {o['seconds']:.1f} | {w['seconds']:.1f} | {o['seconds'] / w['seconds']:.2f}× "
        f"| {o['peak_rss_gb']:.2f} / {w['peak_rss_gb']:.2f} |"
        for i, (o, w) in enumerate(zip(r["runs"]["old"], r["runs"]["new"], strict=True))
    )
    diffs = "; ".join(
        f"{k} max rel {v['max_rel']:.1e}" for k, v in r["diffs"].items() if v["max_abs"] > 0
    )
    text = f"""
### Default indicator set, old (main) vs new, interleaved (`benchmarks/score_speed.py`)

Command: `{cmd}` — **shared cores** (2 cores, 1-min load {r["load_1min"][0]:.1f} at start,
{r["load_1min"][1]:.1f} at end), {r["records"]} real alpagasus/random_9k records, old side
`{r["base"]}`.

| round | old s | new s | ratio | peak RSS GB old / new |
|---:|---:|---:|---:|---:|
{rows}

Overall: old {r["old_rec_s"]:.2f} records/s, new {r["new_rec_s"]:.2f} records/s, **ratio
{r["ratio"]:.2f}×**. Scores new vs old: {diffs or "identical"} (other columns identical).
"""
    with open(REPO / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
