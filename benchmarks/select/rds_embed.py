"""RDS+ embedding: length-sorted batches against input-order batches, same process.

Embeds the first N records of a real pool (default: alpagasus random_9k, ingested by
``benchmarks/select/run.sh``) twice with SmolLM2-135M-Instruct (offline alias), batch 8,
max_length 512: once batched in input order (the baseline: each batch pads to its longest
text) and once by ``weighted_mean_embed`` (shortest first). Prints the padded tokens each way,
the wall time each way (best of ``--repeats``, alternating A B A B), the ratio and the largest
difference between the two sets of vectors.

    python benchmarks/select/rds_embed.py [--records 256] [--repeats 2] [--pool POOL]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from instructmine.select.rds import _texts, weighted_mean_embed


def input_order_embed(model, tok, texts, batch_size=8, max_length=512):
    """The baseline: batches in input order, padded to each batch's longest text."""
    import torch

    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            enc = tok(
                list(texts[start : start + batch_size]),
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=max_length,
            )
            hidden = model(**enc, output_hidden_states=True).hidden_states[-1]
            mask = enc["attention_mask"].to(hidden.dtype)
            weights = torch.cumsum(mask, dim=1) * mask
            pooled = (hidden * weights.unsqueeze(-1)).sum(1) / weights.sum(1, keepdim=True)
            out.append(torch.nn.functional.normalize(pooled.float(), dim=-1).numpy())
    return np.concatenate(out)


def padded_tokens(lengths: np.ndarray, batch_size: int = 8) -> int:
    """Tokens a forward pass processes when ``lengths`` are batched in this order."""
    return int(
        sum(
            lengths[i : i + batch_size].max() * len(lengths[i : i + batch_size])
            for i in range(0, len(lengths), batch_size)
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--pool", default="benchmarks/out/select/pools/random_9k.parquet")
    args = ap.parse_args()

    from instructmine.models import load_causal_lm, load_tokenizer
    from instructmine.offline import offline

    with offline():
        tok = load_tokenizer("smollm2-135m-instruct")
        model = load_causal_lm("smollm2-135m-instruct")[0]
    _, texts = _texts(Path(args.pool), tok, prompts_only=False)
    texts = texts[: args.records]
    lengths = np.array([len(x) for x in tok(texts, truncation=True, max_length=512)["input_ids"]])
    base_tokens, sorted_tokens = padded_tokens(lengths), padded_tokens(np.sort(lengths))
    times: dict[str, list[float]] = {"input order": [], "sorted": []}
    vecs = {}
    for _ in range(args.repeats):
        for name, fn in (("input order", input_order_embed), ("sorted", weighted_mean_embed)):
            t0 = time.perf_counter()
            vecs[name] = fn(model, tok, texts)
            times[name].append(time.perf_counter() - t0)
    a, b = min(times["input order"]), min(times["sorted"])
    diff = float(np.abs(vecs["input order"] - vecs["sorted"]).max())
    print(f"pool {args.pool}, first {len(texts)} records, {lengths.sum()} real tokens")
    print(f"padded tokens: input order {base_tokens}, sorted {sorted_tokens}")
    print(f"wall (best of {args.repeats}): input order {a:.1f} s, sorted {b:.1f} s")
    print(f"speed-up {a / b:.2f}x, max |diff| between the vectors {diff:.1e}")


if __name__ == "__main__":
    main()
