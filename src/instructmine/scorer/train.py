"""``instructmine scorer train`` / ``eval`` / ``pool`` / ``sample``: the library side."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from instructmine.indicators.quality_features import FeatureConfig
from instructmine.indicators.quality_model import HeadConfig, Scorer
from instructmine.scorer.evaluate import (
    add_negatives,
    adversarial_check,
    agreement_report,
    encoder_for,
    features_of,
    fit_scorer,
    real_rows,
    split_by_model,
)
from instructmine.scorer.pool import read_pool


def train(
    pool_path: str | Path,
    label: str,
    out: str | Path,
    features: FeatureConfig,
    head: HeadConfig,
    heldout_models: list[str] | None = None,
    negatives: int = 1,
    judge: str | None = None,
    cache: Path | None = None,
    n_boot: int = 1000,
) -> dict:
    """Fit a scorer on the labelled pool (minus ``heldout_models``), evaluate it on the held-out
    models' answers when given, and write the scorer folder with its provenance and metrics."""
    df = read_pool(pool_path, label)
    if heldout_models:
        tr, te = split_by_model(df, heldout_models)
    else:
        tr, te = real_rows(df), None
    if tr.empty:
        raise ValueError(f"{pool_path}: no training rows left after holding out {heldout_models}")
    if negatives:
        tr = add_negatives(tr, label, negatives)
    enc = encoder_for(features)
    x = features_of(tr, features, enc, cache)
    meta = {
        "labels": {"file": str(pool_path), "column": label, "judge": judge},
        "purpose": "quality of a response to its prompt, distilled from judge labels",
        "synthetic_negatives_per_instruction": negatives,
    }
    scorer = fit_scorer(x, tr, label, features, head, meta)
    if te is not None:
        report = evaluate(scorer, df, label, enc, cache, n_boot)
        scorer.meta["heldout_metrics"] = report
    scorer.save(out)
    return scorer.meta


def evaluate(
    scorer: Scorer,
    df: pd.DataFrame,
    label: str,
    encoder=None,
    cache: Path | None = None,
    n_boot: int = 1000,
) -> dict:
    """Agreement on the rows of models the scorer never saw, beside answer length's own."""
    seen = set(scorer.meta.get("train_models", []))
    rows = real_rows(df)
    rows = rows[~rows["model"].isin(seen)]
    if rows.empty:
        raise ValueError(
            "every model in the evaluation pool was in the scorer's training set; evaluate on "
            "answers of other models (train with --heldout-model)"
        )
    if encoder is None:
        encoder = encoder_for(scorer.features)
    report = agreement_report(
        rows,
        label,
        scorer.predict(features_of(rows, scorer.features, encoder, cache)),
        n_boot=n_boot,
    )
    if "role" in df.columns and (df["role"] == "adversarial").any():
        both = df[df["role"].isin(["real", "adversarial"])]
        report["adversarial"] = adversarial_check(
            both, scorer.predict(features_of(both, scorer.features, encoder, cache))
        )
    return report


def evaluate_folder(
    folder: str | Path, pool_path: str | Path, label: str, n_boot: int = 1000
) -> dict:
    """``instructmine scorer eval``: a saved scorer on a labelled pool."""
    return evaluate(Scorer.load(folder), read_pool(pool_path, label), label, n_boot=n_boot)


def label_sample(
    pool_path: str | Path,
    n: int,
    out: str | Path,
    strata: list[str],
    quantile_cols: list[str],
    price_in: float,
    price_out: float,
    seed: int = 0,
) -> dict:
    """Pick ``n`` records to judge (stratified), write them, and return the cost estimate."""
    import pyarrow as pa

    from instructmine.atomic import write_table
    from instructmine.scorer.pool import cost_estimate, sample_for_labels

    df = pd.read_parquet(pool_path)
    missing = [c for c in [*strata, *quantile_cols] if c not in df.columns]
    if missing:
        raise ValueError(f"{pool_path}: no column(s) {missing} to stratify by")
    sample = sample_for_labels(df, n, strata, quantile_cols, seed=seed)
    write_table(pa.Table.from_pandas(sample, preserve_index=False), out)
    return cost_estimate(sample, price_in, price_out)


def scores_of(folder: str | Path, prompts: list[str], responses: list[str]) -> np.ndarray:
    """Scores of (prompt, response) pairs by a saved scorer (convenience for scripts)."""
    sc = Scorer.load(folder)
    from instructmine.indicators.quality_features import feature_matrix

    return sc.predict(feature_matrix(prompts, responses, sc.features, encoder_for(sc.features)))
