"""Candidate (b): SmolLM2-135M-Instruct as a pairwise Bradley–Terry reward model, sized for CPU.

    PYTHONPATH=src python benchmarks/scorer_rm.py \
        --pool benchmarks/results/scorer/alpaca_eval_pool.parquet \
        --out benchmarks/results/scorer/rm --pairs 300 --eval-instructions 100

``AutoModelForSequenceClassification`` (num_labels=1) on the offline SmolLM2 alias; only the last
``--train-layers`` transformer blocks, the final norm and the score head are trained (the rest is
frozen), inputs are the chat-templated (prompt, answer) cut at ``--max-length`` tokens. Pairs are
two answers of *training* models to the same instruction whose judge labels differ by > 0.3;
loss -log sigmoid(r_better - r_worse). Evaluated like every candidate: held-out models'
answers to a sample of instructions, within-instruction agreement with length held fixed.
Timings are on shared cores (~7 jobs on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from instructmine.models import resolve
    from instructmine.scorer.evaluate import HELDOUT_MODELS, agreement_report, split_by_model

    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--eval-instructions", type=int, default=100)
    ap.add_argument("--max-length", type=int, default=384)
    ap.add_argument("--train-layers", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-4)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    args.out.mkdir(parents=True, exist_ok=True)
    df = pd.read_parquet(args.pool)
    tr, te = split_by_model(df, HELDOUT_MODELS)
    path = resolve("smollm2-135m-instruct")
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=1, dtype=torch.float32
    )
    model.config.pad_token_id = tok.pad_token_id or tok.eos_token_id
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    for p in model.parameters():
        p.requires_grad = False
    blocks = model.model.layers[-args.train_layers :]
    trainable = [*blocks.parameters(), *model.model.norm.parameters(), *model.score.parameters()]
    for p in trainable:
        p.requires_grad = True

    def encode(prompts, answers):
        texts = [
            tok.apply_chat_template(
                [{"role": "user", "content": p}, {"role": "assistant", "content": a}],
                tokenize=False,
            )
            for p, a in zip(prompts, answers, strict=True)
        ]
        return tok(
            texts, truncation=True, max_length=args.max_length, padding=True, return_tensors="pt"
        )

    # pairs within instruction
    rng = np.random.default_rng(0)
    pairs = []
    groups = tr.groupby("group")
    keys = list(groups.groups)
    while len(pairs) < args.pairs:
        part = groups.get_group(keys[rng.integers(len(keys))])
        a, b = part.iloc[rng.choice(len(part), 2, replace=False)].itertuples()
        if abs(a.label - b.label) > 0.3:
            hi, lo = (a, b) if a.label > b.label else (b, a)
            pairs.append((hi.prompt, hi.response, lo.response))
    opt = torch.optim.AdamW(trainable, lr=args.lr)
    model.train()
    t0, losses = time.time(), []
    for i, (p, good, bad) in enumerate(pairs):
        enc = encode([p, p], [good, bad])
        r = model(**enc).logits[:, 0]
        loss = -torch.nn.functional.logsigmoid(r[0] - r[1])
        loss.backward()
        if (i + 1) % 4 == 0:
            opt.step()
            opt.zero_grad()
        losses.append(float(loss))
        if (i + 1) % 25 == 0:
            print(
                f"pair {i + 1}/{len(pairs)} loss {np.mean(losses[-25:]):.3f} "
                f"{(time.time() - t0) / (i + 1):.2f} s/pair (shared cores)",
                flush=True,
            )
    train_s = time.time() - t0
    # evaluate on held-out models' answers to a sample of instructions
    model.eval()
    inst = rng.choice(te["group"].unique(), args.eval_instructions, replace=False)
    ev = te[te["group"].isin(inst)].reset_index(drop=True)
    scores = np.empty(len(ev))
    t1 = time.time()
    with torch.inference_mode():
        for s in range(0, len(ev), 8):
            part = ev.iloc[s : s + 8]
            scores[s : s + 8] = (
                model(**encode(list(part.prompt), list(part.response))).logits[:, 0].numpy()
            )
    eval_s = time.time() - t1
    rep = agreement_report(ev, "label", scores, n_boot=1000)
    out = {
        "candidate": "smollm2-135m BT reward model (last layers)",
        "pairs": len(pairs),
        "train_layers": args.train_layers,
        "max_length": args.max_length,
        "train_seconds_shared_cores": round(train_s, 1),
        "seconds_per_pair_shared_cores": round(train_s / len(pairs), 2),
        "eval_answers": len(ev),
        "eval_seconds_shared_cores": round(eval_s, 1),
        "final_loss_last50": round(float(np.mean(losses[-50:])), 4),
        **{k: v for k, v in rep.items() if k != "models"},
    }
    ev.assign(score=scores)[["group", "model", "label", "score"]].to_parquet(
        args.out / "eval_scores.parquet"
    )
    (args.out / "result.json").write_text(json.dumps(out, indent=1))
    print(
        json.dumps({k: out[k] for k in out if k not in ("length", "scorer_minus_length")}, indent=1)
    )


if __name__ == "__main__":
    main()
