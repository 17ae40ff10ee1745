"""Ingest speed and peak memory: ``instructmine.io.ingest`` vs ``datasets`` on the same JSONL.

Builds a JSONL pool by repeating the real Alpaca-format sets of ../shared/data (alpaca_5000,
alpagasus random_9k and dolly_3k, codealpaca 2k + new, alpaca_gpt4_sample; ~24.7k distinct
records) up to N records, then measures, each in a fresh subprocess so peak RSS is separate:

- ours: ``instructmine.io.ingest([jsonl], pool.parquet)`` (parse, adapt, validate, ids, write);
- baseline: ``datasets.load_dataset("json", data_files=jsonl)`` + a batched ``.map`` to the
  same schema (id, source, category, messages; the same content-hash id) + ``.to_parquet``.

Run: ``.venv/bin/python benchmarks/ingest.py [--sizes 100000 1000000] [--tmp DIR]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared" / "data").resolve()
SETS = [
    "alpaca_5000/alpaca_5000.json.gz",
    "alpagasus/random_9k.json.gz",
    "alpagasus/dolly_3k.json.gz",
    "codealpaca/code_alpaca_2k.json.gz",
    "codealpaca/new_codealpaca.json.gz",
    "alpaca_gpt4_sample/alpaca_en_demo.json.gz",
]


def build(path: Path, n: int) -> None:
    """Write ``n`` Alpaca-format JSONL records, cycling through the real sets."""
    lines = []
    for rel in SETS:
        with gzip.open(SHARED / rel, "rt", encoding="utf-8") as f:
            for r in json.load(f):
                rec = {"instruction": r["instruction"], "input": r["input"], "output": r["output"]}
                if "category" in r:
                    rec["category"] = r["category"]
                lines.append(json.dumps(rec, ensure_ascii=False) + "\n")
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(lines[i % len(lines)])


def run_ours(src: str, out: str) -> int:
    from instructmine.io import ingest

    summary = ingest([src], out, source="bench")
    return summary.rows


def run_datasets(src: str, out: str, cache: str) -> int:
    from hashlib import blake2b

    import datasets
    import orjson

    datasets.disable_progress_bars()

    def to_schema(batch):
        ids, sources, cats, msgs = [], [], [], []
        cat_col = batch.get("category") or [None] * len(batch["instruction"])
        for ins, inp, outp, cat in zip(
            batch["instruction"], batch["input"], batch["output"], cat_col, strict=True
        ):
            user = f"{ins}\n\n{inp}" if inp and inp.strip() else ins
            m = [{"role": "user", "content": user}, {"role": "assistant", "content": outp}]
            ids.append(blake2b(orjson.dumps(["bench", m]), digest_size=8).hexdigest())
            sources.append("bench")
            cats.append(cat)
            msgs.append(m)
        return {"id": ids, "source": sources, "category": cats, "messages": msgs}

    ds = datasets.load_dataset("json", data_files=src, split="train", cache_dir=cache)
    ds = ds.map(to_schema, batched=True, batch_size=10_000, remove_columns=ds.column_names)
    ds.to_parquet(out)
    return ds.num_rows


def worker(kind: str, src: str, out: str, cache: str) -> None:
    """Run one measurement in this (fresh) process and print a JSON line."""
    t0 = time.perf_counter()
    rows = run_ours(src, out) if kind == "ours" else run_datasets(src, out, cache)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"kind": kind, "rows": rows, "seconds": seconds, "peak_rss_mb": peak_mb}))


def measure(kind: str, src: Path, tmp: Path) -> dict:
    out = tmp / f"{kind}_{src.stem}.parquet"
    cache = tmp / f"hf_cache_{kind}_{src.stem}"
    cmd = [sys.executable, __file__, "--worker", kind, str(src), str(out), str(cache)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    return res


def _rate(res: dict, n: int) -> dict:
    res["records_per_s"] = n / res["seconds"]  # input records (rejects included), both sides
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--tmp", type=Path, default=None)
    ap.add_argument("--worker", nargs=4, metavar=("KIND", "SRC", "OUT", "CACHE"))
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED}")
    with tempfile.TemporaryDirectory(dir=args.tmp) as d:
        tmp = Path(d)
        results = []
        for n in args.sizes:
            src = tmp / f"pool_{n}.jsonl"
            build(src, n)
            size_mb = src.stat().st_size / 1e6
            for kind in ("ours", "datasets"):
                r = _rate(measure(kind, src, tmp), n)
                r |= {"records": n, "jsonl_mb": round(size_mb, 1)}
                results.append(r)
                print(
                    f"{kind:9s} n={n:>9,} {r['seconds']:7.1f} s {r['records_per_s']:>10,.0f} rec/s"
                    f"  peak RSS {r['peak_rss_mb']:7.0f} MB  ({size_mb:.0f} MB JSONL)",
                    flush=True,
                )
            src.unlink()
        print(json.dumps(results))


if __name__ == "__main__":
    main()
