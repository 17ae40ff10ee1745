"""Train and evaluate scorers on a labelled pool: split by model, length's own figures,
the learning curve, and the adversarial check (docs/scorer.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from instructmine.indicators.quality_features import FeatureConfig, feature_matrix
from instructmine.indicators.quality_model import HeadConfig, Scorer
from instructmine.scorer.metrics import agreement, paired_difference

#: Held out of training on the shared AlpacaEval judgements, whole model families at a time
#: (siblings like claude-2.1 and claude-2.1_concise write alike), spread over win rates.
HELDOUT_MODELS = (
    "claude-2",
    "claude-2.1",
    "claude-2.1_concise",
    "claude-instant-1.2",
    "Qwen-14B-Chat",
    "gemma-7b-it",
    "ultralm-13b",
    "minichat-3b",
    "text_davinci_001",
    "chatglm2-6b",
    "falcon-40b-instruct",
    "falcon-7b-instruct",
)


def real_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Rows usable as labels: not the adversarial file, not the reference judged against itself."""
    if "role" not in df.columns:
        return df
    return df[df["role"] == "real"]


def split_by_model(
    df: pd.DataFrame, heldout: tuple[str, ...] | list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train rows, held-out rows) of the real models; unknown held-out names are an error."""
    real = real_rows(df)
    unknown = sorted(set(heldout) - set(real["model"]))
    if unknown:
        raise ValueError(f"held-out model(s) {unknown} not in the pool's real models")
    test = real["model"].isin(heldout)
    return real[~test], real[test]


def encoder_for(cfg: FeatureConfig) -> Any:
    """The sentence encoder a feature config names (None when the features are cheap only)."""
    if cfg.encoder is None:
        return None
    from instructmine.models import load_sentence_encoder

    return load_sentence_encoder(cfg.encoder)


def features_of(
    df: pd.DataFrame, cfg: FeatureConfig, encoder: Any = None, cache: Path | None = None
) -> np.ndarray:
    """Feature rows of a pool's (prompt, response) pairs."""
    return feature_matrix(list(df["prompt"]), list(df["response"]), cfg, encoder, cache)


def agreement_report(df: pd.DataFrame, label: str, scores: np.ndarray, n_boot: int = 1000) -> dict:
    """The scorer's agreement, answer length's own, and the paired scorer-minus-length gap."""
    g, y = df["group"].to_numpy(), df[label].to_numpy(dtype=float)
    length = df["response"].str.len().to_numpy()
    return {
        "scorer": agreement(g, y, scores, length, n_boot=n_boot),
        "length": agreement(g, y, np.log1p(length), length, n_boot=n_boot),
        "scorer_minus_length": paired_difference(
            g, y, scores, np.log1p(length), length, n_boot=n_boot
        ),
        "models": sorted(df["model"].unique()),
    }


def adversarial_check(df: pd.DataFrame, scores: np.ndarray) -> dict | None:
    """Median score per model; is the adversarial file below every real model's median?"""
    if "role" not in df.columns or not (df["role"] == "adversarial").any():
        return None
    med = pd.Series(scores, index=df.index).groupby(df["model"]).median()
    roles = df.groupby("model")["role"].first()
    adv = med[roles == "adversarial"]
    real = med[roles == "real"]
    return {
        "adversarial_median": {k: round(float(v), 4) for k, v in adv.items()},
        "lowest_real_model": str(real.idxmin()),
        "lowest_real_median": round(float(real.min()), 4),
        "below_every_real_median": bool(adv.max() < real.min()),
        "adversarial_rank_from_bottom": int((med.rank()[adv.index]).max()),
        "models_ranked": int(len(med)),
    }


def learning_curve(
    x_train: np.ndarray,
    train: pd.DataFrame,
    x_test: np.ndarray,
    test: pd.DataFrame,
    label: str,
    fit: Callable[[np.ndarray, pd.DataFrame], Scorer],
    sizes: list[int],
    seeds: int = 2,
) -> list[dict]:
    """Held-out agreement against the number of training labels (random label subsets)."""
    from instructmine.scorer.metrics import agreement as agree

    out = []
    g, y = test["group"].to_numpy(), test[label].to_numpy(dtype=float)
    length = test["response"].str.len().to_numpy()
    for n in sizes:
        for seed in range(seeds if n < len(train) else 1):
            idx = np.sort(
                np.random.default_rng(seed).choice(len(train), min(n, len(train)), replace=False)
            )
            sc = fit(x_train[idx], train.iloc[idx])
            a = agree(g, y, sc.predict(x_test), length, n_boot=200, seed=seed)
            out.append(
                {
                    "labels": int(len(idx)),
                    "seed": seed,
                    **{
                        k: a[k]["value"]
                        for k in ("spearman", "spearman_len", "pair_acc", "pair_acc_len")
                    },
                }
            )
    return out


_NOISE = ("}", "{", ";", "//", "()", "=>", "]", "[", "#", "\\", "|", "*/", "<>", "::")


def add_negatives(df: pd.DataFrame, label: str, per_group: int = 1, seed: int = 0) -> pd.DataFrame:
    """Training rows plus synthetic bad answers, labelled like the worst answer of their group.

    For each instruction: ``per_group`` answers written for *another* instruction (off-topic)
    and ``per_group`` of its own answers with half the words replaced by symbol noise. Judges
    can be fooled by such answers (the adversarial AlpacaEval file); the negatives teach the
    head that relevance and well-formed text matter. The adversarial file is never used.
    """
    rng = np.random.default_rng(seed)
    worst = df.groupby("group")[label].min()
    prompts = df.groupby("group")["prompt"].first()
    groups = worst.index.to_numpy()
    rows = []
    for _ in range(per_group):
        other = df.iloc[rng.permutation(len(df))]
        other = other.groupby("group")["response"].first()
        shift = rng.permutation(len(groups))
        donors = other.reindex(groups[shift]).to_numpy()
        for g, resp, own in zip(
            groups, donors, df.groupby("group")["response"].first().reindex(groups), strict=True
        ):
            words = own.split()
            hit = rng.random(len(words)) < 0.5
            noisy = " ".join(
                _NOISE[rng.integers(len(_NOISE))] if h else w
                for w, h in zip(words, hit, strict=True)
            )
            for kind, text in (("synthetic-offtopic", resp), ("synthetic-noise", noisy)):
                rows.append(
                    {
                        "prompt": prompts[g],
                        "response": text,
                        "model": kind,
                        "group": g,
                        label: worst[g],
                        "role": "synthetic",
                    }
                )
    extra = pd.DataFrame(rows)
    return pd.concat(
        [df, extra[[c for c in extra.columns if c in df.columns or c == "role"]]], ignore_index=True
    )


def fit_scorer(
    x: np.ndarray,
    df: pd.DataFrame,
    label: str,
    features: FeatureConfig,
    head: HeadConfig,
    meta: dict | None = None,
) -> Scorer:
    """Train a scorer on feature rows of ``df`` (labels centred within instruction)."""
    base = {
        "label": label,
        "train_models": sorted(set(df["model"]) - {"synthetic-offtopic", "synthetic-noise"}),
        "train_labels": int(len(df)),
        "train_instructions": int(df["group"].nunique()),
    }
    return Scorer.fit(
        x,
        df[label].to_numpy(dtype=float),
        df["group"].to_numpy(),
        features,
        head,
        {**base, **(meta or {})},
    )
