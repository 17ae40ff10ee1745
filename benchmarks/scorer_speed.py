"""Throughput: ``quality_scorer`` vs ``perplexity`` on the same records, interleaved A B A B.

    PYTHONPATH=src python benchmarks/scorer_speed.py --records 64 --rounds 3 \
        [--scorer FOLDER] [--out benchmarks/results/scorer/speed.json]

Records: a random sample of the AlpacaEval judgement pool, new records every round (real
prompts and answers, median ~1000 characters). Both indicators are set up (models loaded)
before timing; each round times one full ``score`` call of each. Headline: the ratio of
records/s, measured in this one process; absolute times are on shared cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from instructmine.indicators.base import Example
from instructmine.indicators.registry import create


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--pool", type=Path, default=Path("benchmarks/results/scorer/alpaca_eval_pool.parquet")
    )
    ap.add_argument("--records", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scorer", default="default")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    df = pd.read_parquet(args.pool)
    # fresh records every round: perplexity memoises forward passes by content within a run
    df = df[df["role"] == "real"].sample(args.records * (args.rounds + 1), random_state=0)
    allex = [
        Example(str(i), [], [{"role": "user", "content": p}], r)
        for i, (p, r) in enumerate(zip(df.prompt, df.response, strict=True))
    ]
    ex = allex[: args.records]
    inds = {
        "quality_scorer": create("quality_scorer", model=args.scorer),
        "perplexity": create("perplexity"),
    }
    for ind in inds.values():
        ind.setup()
        ind.score(ex[:8])  # warm-up (lazy imports, first-call kernels)
    times: dict[str, list[float]] = {k: [] for k in inds}
    for k in range(args.rounds):
        batch = allex[(k + 1) * args.records : (k + 2) * args.records]
        for name, ind in inds.items():
            t0 = time.perf_counter()
            ind.score(batch)
            times[name].append(time.perf_counter() - t0)
    rate = {k: args.records / float(np.median(v)) for k, v in times.items()}
    out = {
        "records_per_round": args.records,
        "rounds": args.rounds,
        "records_per_s_shared_cores": {k: round(v, 2) for k, v in rate.items()},
        "ratio_quality_scorer_over_perplexity": round(
            rate["quality_scorer"] / rate["perplexity"], 1
        ),
        "scorer": args.scorer,
        "mean_chars": int(df.prompt.str.len().mean() + df.response.str.len().mean()),
    }
    print(json.dumps(out, indent=1))
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
