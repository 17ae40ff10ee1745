"""Embed every prompt and answer of the AlpacaEval judgement pool once (resumable shard cache).

    PYTHONPATH=src python benchmarks/scorer_embed.py \
        --pool benchmarks/results/scorer/alpaca_eval_pool.parquet \
        --cache benchmarks/results/scorer/cache/minilm-w254-c4

Re-running skips shards already written. Progress and rate go to stdout (shared cores).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from instructmine.indicators.quality_features import FeatureConfig, embed_cached
from instructmine.models import load_sentence_encoder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", type=Path, required=True)
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--max-chunks", type=int, default=4)
    ap.add_argument("--instructions", type=int, default=0, help="only this many (0: all)")
    args = ap.parse_args()
    df = pd.read_parquet(args.pool)
    if args.instructions:
        keep = sorted(df["group"].unique())[: args.instructions]  # groups are hashes: random
        df = df[df["group"].isin(keep)]
    cfg = FeatureConfig(max_chunks=args.max_chunks)
    enc = load_sentence_encoder(cfg.encoder)
    t0 = time.time()

    def tick(done: int, total: int) -> None:
        rate = done / (time.time() - t0)
        print(f"{done}/{total} texts, {rate:.1f}/s (shared cores)", flush=True)

    embed_cached(
        enc,
        list(dict.fromkeys(df["prompt"])),
        cfg.model_copy(update={"max_chunks": 1}),
        args.cache / "prompt",
        on_shard=tick,
    )
    t0 = time.time()
    # order: real models first, so a partial cache is already usable for the held-out split
    embed_cached(enc, list(df["response"]), cfg, args.cache / "response", on_shard=tick)
    print("done", flush=True)


if __name__ == "__main__":
    main()
