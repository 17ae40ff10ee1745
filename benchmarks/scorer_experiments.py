"""Scorer candidates on the shared AlpacaEval judgements, held-out *models* (docs/scorer.md).

    PYTHONPATH=src python benchmarks/scorer_experiments.py \
        --pool benchmarks/results/scorer/alpaca_eval_pool.parquet \
        --cache benchmarks/results/scorer/cache/minilm-w254-c4 \
        --out benchmarks/results/scorer/experiments.json

Cheap-indicator candidates run on every row; MiniLM candidates on the rows whose answers the
(resumable, possibly partial) embedding cache already holds, compared on those same rows with
the cheap candidates and answer length. Nothing is embedded here (read-only cache).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from instructmine.indicators.quality_features import (
    FeatureConfig,
    cheap_features,
    read_cache,
    text_key,
)
from instructmine.indicators.quality_model import HeadConfig
from instructmine.scorer.evaluate import (
    HELDOUT_MODELS,
    adversarial_check,
    agreement_report,
    fit_scorer,
    learning_curve,
    split_by_model,
)
from instructmine.scorer.metrics import METRICS

CHEAP = FeatureConfig(encoder=None)
EMB = FeatureConfig()


def summary(rep: dict) -> dict:
    return {k: v for k, v in rep.items() if k != "models"}


def run_candidates(name, x, df, tr_idx, te_idx, heads, n_boot, results, adv_rows=None):
    tr, te = df.loc[tr_idx], df.loc[te_idx]
    pos = {i: k for k, i in enumerate(df.index)}
    xtr, xte = x[[pos[i] for i in tr_idx]], x[[pos[i] for i in te_idx]]
    for tag, head, cfg in heads:
        t0 = time.time()
        sc = fit_scorer(xtr, tr, "label", cfg, head)
        rep = agreement_report(te, "label", sc.predict(xte), n_boot=n_boot)
        out = {
            "subset": name,
            "candidate": tag,
            "head": head.model_dump(),
            "train_rows": len(tr),
            "test_rows": len(te),
            "fit_seconds_shared_cores": round(time.time() - t0, 1),
            **summary(rep),
        }
        if adv_rows is not None:
            out["adversarial"] = adversarial_check(
                df.loc[adv_rows], sc.predict(x[[pos[i] for i in adv_rows]])
            )
        results.append(out)
        vals = " ".join(f"{m} {rep['scorer'][m]['value']:.3f}" for m in METRICS)
        print(f"{name:8s} {tag:28s} {vals}", flush=True)
    vals = " ".join(f"{m} {rep['length'][m]['value']:.3f}" for m in METRICS)
    print(f"{name:8s} {'answer length':28s} {vals}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", type=Path, required=True)
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    df = pd.read_parquet(args.pool).reset_index(drop=True)
    cheap_path = args.out.parent / "cache" / "cheap.npy"
    if cheap_path.exists():
        xc = np.load(cheap_path)
    else:
        xc = cheap_features(list(df.prompt), list(df.response))
        cheap_path.parent.mkdir(parents=True, exist_ok=True)
        np.save(cheap_path, xc)
    tr, te = split_by_model(df, HELDOUT_MODELS)
    adv = df.index[df.role.isin(["real", "adversarial"])]
    results: list = []
    heads_cheap = [
        ("cheap ridge logit", HeadConfig(kind="ridge", label_transform="logit"), CHEAP),
        ("cheap ridge raw", HeadConfig(kind="ridge", label_transform="raw"), CHEAP),
        ("cheap ridge rank", HeadConfig(kind="ridge", label_transform="rank"), CHEAP),
        (
            "cheap ridge logit len-neutral",
            HeadConfig(kind="ridge", label_transform="logit", length_neutral=True),
            CHEAP,
        ),
        ("cheap hgb rank", HeadConfig(kind="hgb", label_transform="rank"), CHEAP),
    ]
    run_candidates("all", xc, df, tr.index, te.index, heads_cheap, args.n_boot, results, adv)
    # MiniLM candidates on the embedded rows
    rc = read_cache(args.cache / "response")
    pc = read_cache(args.cache / "prompt")
    have = np.array([text_key(r) in rc for r in df.response])
    print(f"embedded answers: {have.sum()} of {len(df)}", flush=True)
    sub = df.index[have]
    r = np.stack([rc[text_key(t)] for t in df.response[have]]).astype(np.float64)
    p = np.stack([pc[text_key(t)] for t in df.prompt[have]]).astype(np.float64)
    xe_sub = np.hstack([r, p * r, xc[have]])
    xe = np.zeros((len(df), xe_sub.shape[1]))
    xe[have] = xe_sub
    tr_s, te_s = tr.index.intersection(sub), te.index.intersection(sub)
    adv_s = adv.intersection(sub)
    heads_emb = [
        ("minilm+cheap ridge logit", HeadConfig(kind="ridge", label_transform="logit"), EMB),
        ("minilm+cheap ridge rank", HeadConfig(kind="ridge", label_transform="rank"), EMB),
        ("minilm+cheap hgb rank", HeadConfig(kind="hgb", label_transform="rank"), EMB),
    ]
    xc_full = np.zeros_like(xe)
    xc_full[:, -xc.shape[1] :] = xc
    run_candidates(
        "embedded",
        np.hstack([np.zeros((len(df), 0)), xc]),
        df,
        tr_s,
        te_s,
        heads_cheap[:1],
        args.n_boot,
        results,
        adv_s,
    )
    run_candidates("embedded", xe, df, tr_s, te_s, heads_emb, args.n_boot, results, adv_s)
    # learning curves
    curves = {}
    pos_tr, pos_te = tr.index.to_numpy(), te.index.to_numpy()
    curves["cheap ridge logit"] = learning_curve(
        xc[pos_tr],
        tr,
        xc[pos_te],
        te,
        "label",
        lambda x, d: fit_scorer(x, d, "label", CHEAP, HeadConfig()),
        [250, 500, 1000, 2000, 4000, 8000, len(tr)],
    )
    if len(tr_s) > 500:
        curves["minilm+cheap ridge logit (embedded rows)"] = learning_curve(
            xe[tr_s.to_numpy()],
            df.loc[tr_s],
            xe[te_s.to_numpy()],
            df.loc[te_s],
            "label",
            lambda x, d: fit_scorer(x, d, "label", EMB, HeadConfig()),
            [n for n in [500, 1000, 2000, 4000, 8000] if n < len(tr_s)] + [len(tr_s)],
        )
    args.out.write_text(
        json.dumps(
            {"heldout_models": list(HELDOUT_MODELS), "results": results, "learning_curves": curves},
            indent=1,
        )
    )
    print(json.dumps(curves, indent=1), flush=True)


if __name__ == "__main__":
    main()
