"""Scoring speed: perplexity runner vs a per-record loop, MTLD vs lexicalrichness, kNN at scale.

Each part measures ours and a baseline in the same run, so ratios hold on a busy machine:

- ``ppl``: SmolLM2-135M-Instruct perplexity over N real records of alpagasus/random_9k, through
  the project's runner (length-sorted windows, ``nll.py`` batches, LM head only at response
  positions, a prefix shared by a chunk's records run once) vs a plain per-record transformers
  loop at batch size 1 (as Cherry LLM and Superfiltering score: full logits, then the loss over
  the response). Reports tokens/s and the achieved FLOP/s (2 · params · tokens) as a fraction
  of an fp32 matmul peak measured here, and the fraction counting only executed FLOPs.
- ``mtld``: records/s of ``mtld_batch`` vs ``LexicalRichness(text).mtld(0.72)`` on the same
  responses (best of 5 runs each, the two alternating), and whether every value is identical.
- ``knn``: self-kNN (k=6) over N random-but-realistic 384-d unit embeddings (a mixture of
  clusters, neighbour distances in the range of real all-MiniLM-L6-v2 ones): seconds and peak
  RSS (each size in a fresh subprocess), and the approximate index's recall against exact
  search on a sample of queries.

Run: ``.venv/bin/python benchmarks/score.py [--parts ppl mtld knn] [--ppl-records 2000]
[--knn-sizes 100000 1000000]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared" / "data").resolve()


def alpagasus_records(n: int) -> list[dict]:
    with gzip.open(SHARED / "alpagasus" / "random_9k.json.gz", "rt", encoding="utf-8") as fh:
        raw = json.load(fh)
    out = []
    for i, r in enumerate(raw):
        if not r["output"].strip():
            continue
        user = r["instruction"] + (f"\n\n{r['input']}" if r["input"] else "")
        msgs = [{"role": "user", "content": user}, {"role": "assistant", "content": r["output"]}]
        out.append({"id": f"a9k-{i:05d}", "source": "random_9k", "messages": msgs})
        if len(out) == n:
            break
    return out


def matmul_peak(size: int = 2048, reps: int = 10) -> float:
    """fp32 GFLOP/s of a square matmul (best of ``reps``)."""
    import torch

    a = torch.randn(size, size)
    b = torch.randn(size, size)
    a @ b
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * size**3 / best / 1e9


def bench_ppl(n: int) -> dict:
    import pyarrow.parquet as pq
    import torch
    import torch.nn.functional as F

    from instructmine.indicators.registry import create
    from instructmine.nll import shared_prefix_length
    from instructmine.prompting import IGNORE_INDEX, encode
    from instructmine.runners.local import run_local
    from instructmine.schema import table_from_records

    recs = alpagasus_records(n)
    from instructmine.models import load_causal_lm

    model, tok = load_causal_lm("smollm2-135m-instruct")
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    encs = [encode(tok, r["messages"], "auto", train_on="last_assistant") for r in recs]
    tokens = sum(len(e.input_ids) for e in encs)
    labelled = sum(sum(x != IGNORE_INDEX for x in e.labels[1:]) for e in encs)
    peak_before = matmul_peak()

    tmp = Path(tempfile.mkdtemp(prefix="bench-ppl-"))
    try:
        pool = tmp / "pool.parquet"
        pq.write_table(table_from_records(recs), pool)
        t = time.perf_counter()
        out = run_local(pool, [create("perplexity")], tmp / "scores", progress=False)
        ours_s = time.perf_counter() - t
        ours = pq.read_table(out["perplexity"]).column("perplexity").to_numpy()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    base = np.empty(len(encs))
    t = time.perf_counter()
    with torch.inference_mode():
        for i, e in enumerate(encs):
            ids = torch.tensor([e.input_ids])
            logits = model(input_ids=ids).logits[0, :-1]
            target = torch.tensor(e.labels[1:])
            keep = target != IGNORE_INDEX
            base[i] = math.exp(float(F.cross_entropy(logits[keep], target[keep])))
    base_s = time.perf_counter() - t
    peak = max(peak_before, matmul_peak())
    rel = np.abs(ours - base) / base
    head = model.get_output_embeddings().weight.numel()
    # nll.py runs a prefix shared by a whole call (here every record's default system prompt)
    # once per call; the runner makes one call per cached chunk of 64 records
    skip = shared_prefix_length(encs)
    body_tokens = tokens - skip * (len(encs) - math.ceil(len(encs) / 64))
    executed = 2 * ((params - head) * body_tokens + head * labelled)
    return {
        "records": len(recs),
        "tokens": tokens,
        "response_tokens": int(labelled),
        "shared_prefix_tokens": skip,
        "executed_body_tokens": body_tokens,
        "params": params,
        "peak_gflops": peak,
        "ours_s": ours_s,
        "base_s": base_s,
        "ours_tok_s": tokens / ours_s,
        "base_tok_s": tokens / base_s,
        "speedup": base_s / ours_s,
        "ours_peak_frac": 2 * params * tokens / ours_s / 1e9 / peak,
        "base_peak_frac": 2 * params * tokens / base_s / 1e9 / peak,
        "ours_executed_frac": executed / ours_s / 1e9 / peak,
        "max_rel_diff": float(rel.max()),
    }


def bench_mtld(n: int) -> dict:
    from lexicalrichness import LexicalRichness

    from instructmine.indicators.mtld import mtld_batch, tokens

    texts = [r["messages"][-1]["content"] for r in alpagasus_records(n)]
    texts = [t for t in texts if tokens(t)]  # the reference raises on texts without words
    mtld_batch(texts[:10])  # load the compiled kernel
    best_ours, best_ref = math.inf, math.inf
    for _ in range(5):
        t = time.perf_counter()
        ours = np.concatenate([mtld_batch(texts[i : i + 2048]) for i in range(0, len(texts), 2048)])
        best_ours = min(best_ours, time.perf_counter() - t)
        t = time.perf_counter()
        ref = [LexicalRichness(x).mtld(threshold=0.72) for x in texts]
        best_ref = min(best_ref, time.perf_counter() - t)
    return {
        "records": len(texts),
        "ours_rec_s": len(texts) / best_ours,
        "ref_rec_s": len(texts) / best_ref,
        "speedup": best_ref / best_ours,
        "identical": int(sum(a == b for a, b in zip(ours.tolist(), ref, strict=True))),
    }


def realistic_embeddings(n: int, dim: int = 384, seed: int = 0) -> np.ndarray:
    """Unit vectors from a mixture of many clusters of varying spread (float32)."""
    rng = np.random.default_rng(seed)
    n_centres = max(50, n // 500)
    centres = rng.standard_normal((n_centres, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for s in range(0, n, step):
        m = min(step, n - s)
        which = rng.integers(0, n_centres, m)
        spread = rng.uniform(0.9, 1.4, m).astype(np.float32)[:, None] / np.sqrt(dim)
        x = centres[which] + spread * rng.standard_normal((m, dim), dtype=np.float32)
        out[s : s + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def bench_knn_case(n: int, queries: int = 2000) -> dict:
    """One size, in this process: build + self-search, then recall on sampled queries."""
    import faiss

    from instructmine.indicators.knn import build_index, kth_neighbour_distance

    x = realistic_embeddings(n)
    exact_max = 100_000
    t = time.perf_counter()
    got = kth_neighbour_distance(x, 6, exact_max=exact_max)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rng = np.random.default_rng(1)
    q = np.sort(rng.choice(n, size=min(queries, n), replace=False))
    flat = faiss.IndexFlatL2(x.shape[1])
    flat.add(x)
    d_exact, i_exact = flat.search(x[q], 7)
    exact_kth = np.sqrt(np.maximum(d_exact[:, 6], 0))  # column 0 is the query itself
    result = {
        "n": n,
        "index": "exact IndexFlatL2" if n <= exact_max else "IVFFlat",
        "seconds": seconds,
        "peak_rss_mb": peak,
        "knn6_mean": float(got.mean()),
        "knn6_p5_p95": [float(np.percentile(got, 5)), float(np.percentile(got, 95))],
    }
    if n > exact_max:
        index = build_index(x, exact_max)
        _, i_approx = index.search(x[q], 7)
        hits = [len(set(a[1:]) & set(b[1:])) / 6 for a, b in zip(i_approx, i_exact, strict=True)]
        result["recall_at_6"] = float(np.mean(hits))
        result["kth_rel_err_mean"] = float(np.mean(np.abs(got[q] - exact_kth) / exact_kth))
        result["kth_exact_frac"] = float(np.mean(np.isclose(got[q], exact_kth, atol=1e-4)))
        result["nlist"], result["nprobe"] = index.nlist, index.nprobe
    else:
        result["max_abs_diff_vs_exact_sample"] = float(np.abs(got[q] - exact_kth).max())
    return result


def bench_knn(sizes: list[int]) -> list[dict]:
    out = []
    for n in sizes:
        proc = subprocess.run(
            [sys.executable, __file__, "--knn-case", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(out[-1]), file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", nargs="+", default=["ppl", "mtld", "knn"])
    ap.add_argument("--ppl-records", type=int, default=2000)
    ap.add_argument("--mtld-records", type=int, default=9229)
    ap.add_argument("--knn-sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--threads", type=int, help="torch threads for every part (default: torch's)")
    ap.add_argument("--knn-case", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.knn_case:
        print(json.dumps(bench_knn_case(args.knn_case)))
        return
    import os

    import torch

    results = {"torch_threads": torch.get_num_threads(), "loadavg_start": os.getloadavg()}
    if "mtld" in args.parts:
        results["mtld"] = bench_mtld(args.mtld_records)
        print(json.dumps(results["mtld"]), file=sys.stderr)
    if "ppl" in args.parts:
        results["ppl"] = bench_ppl(args.ppl_records)
        print(json.dumps(results["ppl"]), file=sys.stderr)
    if "knn" in args.parts:
        results["knn"] = bench_knn(args.knn_sizes)
    results["loadavg_end"] = os.getloadavg()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
