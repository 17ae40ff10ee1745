"""Scale of the contamination audit: a synthetic pool of N records against 10k eval items.

    PYTHONPATH=src python benchmarks/decontaminate_scale.py --sizes 100000 300000 [1000000]

Writes a synthetic eval pool (10,000 items: prompts of 4-40 words, a third under 13 words, and
a 40-word reference each) and pools of N records (prompt 8-40 words, response 30-150 words,
words drawn Zipf-like from a 20,000-word vocabulary), with 100 eval prompts planted whole and
100 planted inside a longer response. Each size runs ``decontaminate_pool`` (levels 1-2, the
defaults) in a child process under ``/usr/bin/time -v``; prints wall time, records/s, peak RSS
and whether every planted record was found. The marginal rate between two sizes excludes the
fixed cost (imports, the eval index).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

EVAL_ITEMS = 10_000
PLANTED = 100  # of each kind


def _vocab(rng: np.random.Generator, size: int = 20_000) -> np.ndarray:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lens = rng.integers(2, 10, size)
    return np.array(["".join(rng.choice(letters, k)) for k in lens])


def _texts(rng, vocab, n: int, lo: int, hi: int) -> list[str]:
    p = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    p /= p.sum()
    lens = rng.integers(lo, hi + 1, n)
    flat = vocab[rng.choice(len(vocab), int(lens.sum()), p=p)]
    ends = np.cumsum(lens)
    return [" ".join(flat[e - k : e]) for e, k in zip(ends, lens, strict=True)]


def _rec(rid: str, prompt: str, response: str) -> dict:
    msgs = [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
    return {"id": rid, "source": "synthetic", "messages": msgs}


def make(work: Path, sizes: list[int]) -> None:
    import pyarrow.parquet as pq

    from instructmine.io.pool import PoolWriter
    from instructmine.schema import table_from_records

    rng = np.random.default_rng(0)
    vocab = _vocab(rng)
    ev = work / "eval.parquet"
    prompts = _texts(rng, vocab, EVAL_ITEMS, 4, 40)
    if not ev.exists():
        refs = _texts(rng, vocab, EVAL_ITEMS, 40, 40)
        recs = [_rec(f"e{i}", p, r) for i, (p, r) in enumerate(zip(prompts, refs, strict=True))]
        pq.write_table(table_from_records(recs), ev)
    short = [i for i, p in enumerate(prompts) if len(p.split()) < 13][:PLANTED]
    long = [i for i, p in enumerate(prompts) if len(p.split()) >= 20][:PLANTED]
    for n in sizes:
        path = work / f"pool_{n}.parquet"
        if path.exists():
            continue
        writer = PoolWriter(path)
        step = 20_000
        plant_at = set(rng.choice(n, 2 * PLANTED, replace=False).tolist())
        plants = iter([("short", i) for i in short] + [("long", i) for i in long])
        for start in range(0, n, step):
            k = min(step, n - start)
            ps = _texts(rng, vocab, k, 8, 40)
            rs = _texts(rng, vocab, k, 30, 150)
            recs = []
            for j in range(k):
                rid = f"r{start + j}"
                if start + j in plant_at:
                    kind, i = next(plants)
                    if kind == "short":
                        ps[j] = prompts[i]
                    else:
                        rs[j] = rs[j] + " " + prompts[i] + " " + rs[j][:40]
                    rid = f"planted-{kind}-{i}-{start + j}"
                recs.append(_rec(rid, ps[j], rs[j]))
            writer.write(table_from_records(recs))
        writer.close()


def run_one(pool: Path, ev: Path, out: Path) -> None:
    """The measured child: one audit, its summary as JSON on stdout."""
    from instructmine.decontaminate import DecontaminateConfig, decontaminate_pool

    t0 = time.perf_counter()
    s = decontaminate_pool(pool, [ev], out, DecontaminateConfig(), overwrite=True)
    found = set()
    for line in Path(s.hits_path).read_bytes().splitlines():
        pid = json.loads(line)["pool_id"]
        if pid.startswith("planted-"):
            found.add(pid)
    print(
        json.dumps(
            {
                "records": s.records,
                "records_hit": s.records_hit,
                "planted_found": len(found),
                "seconds": time.perf_counter() - t0,
            }
        )
    )


def measure(work: Path, n: int) -> dict:
    out = work / f"clean_{n}.parquet"
    for p in (out, out.with_suffix(".decontaminate.json")):
        p.unlink(missing_ok=True)  # always a full run, never a manifest skip
    cmd = ["/usr/bin/time", "-v", sys.executable, __file__, "--work", str(work), "--child", str(n)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    doc = json.loads(r.stdout.strip().splitlines()[-1])
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    doc |= {"n": n, "peak_rss_mb": round(rss / 1024), "records_per_s": round(n / doc["seconds"])}
    return doc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=Path("/tmp/decontaminate_scale"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    ap.add_argument("--child", type=int, default=None)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.child is not None:
        run_one(
            args.work / f"pool_{args.child}.parquet",
            args.work / "eval.parquet",
            args.work / f"clean_{args.child}.parquet",
        )
        return
    make(args.work, args.sizes)
    rows = []
    for n in args.sizes:
        rows.append(measure(args.work, n))
        print(json.dumps(rows[-1]), flush=True)
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        marginal = (b["n"] - a["n"]) / (b["seconds"] - a["seconds"])
        fixed = a["seconds"] - a["n"] / marginal
        print(
            json.dumps(
                {
                    "marginal_records_per_s": round(marginal),
                    "fixed_seconds": round(fixed, 1),
                    "extrapolated_1M_seconds": round(fixed + 1_000_000 / marginal),
                }
            )
        )


if __name__ == "__main__":
    main()
