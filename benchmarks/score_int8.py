"""perplexity and IFD at ``precision="int8"`` vs fp32: per-indicator Spearman and speed-up.

Scores N real alpagasus/random_9k records with ``perplexity`` + ``ifd`` (SmolLM2-135M-Instruct)
twice, once with each precision, slice by slice: for each slice of records fp32 then int8
(A B A B over the slices, so a busy machine slows both alike), each side with its own run
state made once (the int8 copy of the model is quantised once; its cost is reported apart),
scoring the slice as the runner does (sorted by length, chunks of 64, perplexity then IFD on
each chunk). Every finished slice is written under ``--out`` (``slice-K-<precision>.parquet``
with its seconds in ``slice-K-<precision>.json``), so a killed run resumes where it stopped;
``--report`` summarises whatever slices both sides have finished.

Run: ``PYTHONPATH=src nohup .venv/bin/python benchmarks/score_int8.py --records 2000 &``,
then ``PYTHONPATH=src .venv/bin/python benchmarks/score_int8.py --records 2000 --report
[--append-results]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PRECISIONS = ("fp32", "int8")
INDICATORS = ("perplexity", "ifd")
CHUNK = 64


def load_examples(n: int) -> list:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from score import alpagasus_records

    from instructmine.indicators.base import examples_from_batch
    from instructmine.schema import table_from_records

    return examples_from_batch(table_from_records(alpagasus_records(n)))


def score_slice(inds: list, examples: list) -> tuple[dict[str, np.ndarray], float]:
    """Scores of one slice (runner order: length-sorted chunks) and the seconds it took."""
    order = np.argsort(np.asarray(inds[0].sort_key(examples)), kind="stable")
    cols = {ind.name: np.empty(len(examples)) for ind in inds}
    t = time.perf_counter()
    for start in range(0, len(order), CHUNK):
        idx = order[start : start + CHUNK]
        chunk = [examples[i] for i in idx]
        for ind in inds:
            cols[ind.name][idx] = ind.score(chunk)[ind.name]
    return cols, time.perf_counter() - t


def run(args: argparse.Namespace) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from instructmine.indicators.registry import create
    from instructmine.indicators.state import RunState

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    examples = load_examples(args.records)
    sides = {}
    for prec in PRECISIONS:
        state = RunState()
        inds = [create(name, precision=prec) for name in INDICATORS]
        t = time.perf_counter()
        for ind in inds:
            ind.setup(state)
        if prec == "int8":  # make the quantised copy now, outside the timed slices
            from instructmine.indicators.causal import scoring_model

            scoring_model(state, inds[0].params)
        setup = time.perf_counter() - t
        (out / f"setup-{prec}.json").write_text(json.dumps({"seconds": setup}))
        print(f"{prec}: setup {setup:.1f} s", flush=True)
        sides[prec] = inds
    for k, start in enumerate(range(0, len(examples), args.slice)):
        part = examples[start : start + args.slice]
        for prec, inds in sides.items():
            dest = out / f"slice-{k:03d}-{prec}.parquet"
            if dest.exists():
                continue
            cols, seconds = score_slice(inds, part)
            table = pa.table({"id": [e.id for e in part], **cols})
            tmp = dest.with_suffix(".tmp")
            pq.write_table(table, tmp)
            meta = {"seconds": seconds, "records": len(part), "load": os.getloadavg()[0]}
            (out / f"slice-{k:03d}-{prec}.json").write_text(json.dumps(meta))
            os.replace(tmp, dest)  # last: a slice with a parquet file is complete
            rate = len(part) / seconds
            print(f"slice {k} {prec}: {seconds:.1f} s ({rate:.2f} rec/s)", flush=True)


def report(args: argparse.Namespace) -> dict:
    import pyarrow.parquet as pq
    from scipy.stats import spearmanr

    out = Path(args.out)
    tables = {p: [] for p in PRECISIONS}
    seconds = {p: 0.0 for p in PRECISIONS}
    loads = []
    k = 0
    while all((out / f"slice-{k:03d}-{p}.parquet").exists() for p in PRECISIONS):
        for p in PRECISIONS:
            tables[p].append(pq.read_table(out / f"slice-{k:03d}-{p}.parquet").to_pandas())
            meta = json.loads((out / f"slice-{k:03d}-{p}.json").read_text())
            seconds[p] += meta["seconds"]
            loads.append(meta["load"])
        k += 1
    if not k:
        raise SystemExit(f"{out}: no slice finished by both precisions yet")
    fp32 = np.concatenate([t.to_numpy() for t in tables["fp32"]])
    int8 = np.concatenate([t.to_numpy() for t in tables["int8"]])
    assert (fp32[:, 0] == int8[:, 0]).all()
    n = len(fp32)
    res: dict = {
        "records": n,
        "slices": k,
        "fp32_s": seconds["fp32"],
        "int8_s": seconds["int8"],
        "speedup": seconds["fp32"] / seconds["int8"],
        "load_1min": [min(loads), max(loads)],
        "setup_s": {
            p: json.loads((out / f"setup-{p}.json").read_text())["seconds"] for p in PRECISIONS
        },
        "indicators": {},
    }
    for j, name in enumerate(INDICATORS, start=1):
        a, b = fp32[:, j].astype(float), int8[:, j].astype(float)
        rel = np.abs(a - b) / np.abs(a)
        res["indicators"][name] = {
            "spearman": float(spearmanr(a, b).statistic),
            "median_rel_diff": float(np.median(rel)),
            "max_rel_diff": float(rel.max()),
        }
    print(json.dumps(res, indent=2))
    (out / "summary.json").write_text(json.dumps(res, indent=2))
    if args.append_results:
        append_results(res, args)
    return res


def append_results(r: dict, args: argparse.Namespace) -> None:
    rows = "\n".join(
        f"| {name} | {v['spearman']:.4f} | {v['median_rel_diff']:.2e} | {v['max_rel_diff']:.2e} |"
        for name, v in r["indicators"].items()
    )
    ok = all(v["spearman"] >= 0.99 for v in r["indicators"].values())
    text = f"""
### perplexity + IFD at int8 vs fp32 (`benchmarks/score_int8.py`)

Command: `PYTHONPATH=src nohup .venv/bin/python benchmarks/score_int8.py --records {args.records}
--slice {args.slice} &`, summarised by `... --report --append-results` — **shared cores** (2 cores,
1-min load {r["load_1min"][0]:.1f}–{r["load_1min"][1]:.1f} at the slices' ends). {r["records"]}
real alpagasus/random_9k records ({r["slices"]} slices, fp32 and int8 alternating), SmolLM2-135M-
Instruct, `torch.ao.quantization.quantize_dynamic` of every `Linear` but `down_proj` and the LM
head (per-channel int8 weights, activations quantised per batch).

| indicator | Spearman int8 vs fp32 | median rel. diff | max rel. diff |
|---|---:|---:|---:|
{rows}

Scoring time (perplexity + IFD, model loading and quantisation excluded): fp32
{r["fp32_s"]:.0f} s, int8 {r["int8_s"]:.0f} s: **int8 {r["speedup"]:.2f}× faster**. Quantising
the model once per run took {r["setup_s"]["int8"]:.1f} s. Spearman ≥ 0.99 for every indicator:
**{"yes" if ok else "no"}**, so the default precision {"may become int8" if ok else "stays fp32"}.
"""
    with open(REPO / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as fh:
        fh.write(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--slice", type=int, default=128)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "score" / "int8"))
    ap.add_argument("--report", action="store_true", help="summarise the finished slices")
    ap.add_argument("--append-results", action="store_true", help="append to RESULTS.md")
    args = ap.parse_args()
    if args.report:
        report(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
