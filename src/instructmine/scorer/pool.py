"""Judge labels as a labelled pool, and which records to send to a judge (with its cost).

A *labelled pool* is a table with one row per judged (prompt, response): ``prompt``,
``response``, ``model`` (who wrote the answer: the unit of the held-out split), ``group`` (the
instruction: the unit of within-instruction training and of the bootstrap), ``source``, and one
or more label columns. :func:`load_alpaca_eval` builds it from the shared AlpacaEval judgement
files; any parquet with those columns works with ``instructmine scorer train``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

#: Not a language model: constant adversarial answers that fool the judge (never train on it).
ADVERSARIAL_MODELS = frozenset({"NullModel"})
#: The reference judged against itself: labels near 0.5 carry no quality information.
REFERENCE_MODELS = frozenset({"gpt4_1106_preview"})
REQUIRED = ("prompt", "response", "model", "group")


def group_of(prompt: str) -> str:
    """The instruction id of a prompt (content hash)."""
    return hashlib.sha256(prompt.encode()).hexdigest()[:16]


def load_alpaca_eval(folder: str | Path) -> pd.DataFrame:
    """All ``*.json.gz`` AlpacaEval annotation files of ``folder`` as one labelled pool.

    ``label`` is ``preference - 1``: the judge's probability that the answer beats the fixed
    reference. ``role`` is ``real``, ``adversarial`` (NullModel) or ``reference``.
    """
    files = sorted(Path(folder).glob("*.json.gz"))
    if not files:
        raise FileNotFoundError(f"{folder}: no *.json.gz judgement files")
    rows = []
    for f in files:
        model = f.name.removesuffix(".json.gz")  # generator_2 of NullModel is "example"
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            records = json.load(fh)
        for i, r in enumerate(records):
            try:
                pref = float(r["preference"])
                rows.append(
                    (r["instruction"], r["output_2"] or "", model, r["dataset"], pref - 1.0)
                )
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(
                    f"{f} record {i}: {err!r}; expected AlpacaEval annotations with "
                    "instruction, output_2, dataset, preference"
                ) from None
    df = pd.DataFrame(rows, columns=["prompt", "response", "model", "source", "label"])
    df["group"] = [group_of(p) for p in df["prompt"]]
    df["role"] = np.where(
        df["model"].isin(ADVERSARIAL_MODELS),
        "adversarial",
        np.where(df["model"].isin(REFERENCE_MODELS), "reference", "real"),
    )
    return df


def read_pool(path: str | Path, label: str | None = None) -> pd.DataFrame:
    """A labelled pool from parquet, checked for the required columns (and ``label``)."""
    df = pd.read_parquet(path)
    need = [*REQUIRED, *([label] if label else [])]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {missing}; a labelled pool needs {list(REQUIRED)} and "
            f"the label column (build one with `instructmine scorer pool`)"
        )
    if label:
        bad = ~np.isfinite(pd.to_numeric(df[label], errors="coerce").to_numpy(dtype=float))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{path}: row {i} has no numeric {label!r} label ({df[label].iloc[i]!r})"
            )
    return df


def sample_for_labels(
    pool: pd.DataFrame,
    n: int,
    strata: list[str] | None = None,
    quantile_cols: list[str] | None = None,
    bins: int = 4,
    seed: int = 0,
) -> pd.DataFrame:
    """Pick ``n`` records to send to a judge, spread evenly over strata.

    Strata are the product of the ``strata`` columns (e.g. ``source``) and ``bins`` quantile
    bins of each ``quantile_cols`` indicator (e.g. ``output_length``), so long and short,
    easy and hard records are all labelled. Each stratum gets an equal share (capped at its
    size; the remainder goes to the larger strata).
    """
    if n >= len(pool):
        return pool.copy()
    keys = pd.DataFrame(index=pool.index)
    for c in strata or []:
        keys[c] = pool[c].astype(str)
    for c in quantile_cols or []:
        keys[f"q_{c}"] = pd.qcut(pool[c].rank(method="first"), bins, labels=False)
    rng = np.random.default_rng(seed)
    if keys.shape[1] == 0:
        return pool.iloc[np.sort(rng.choice(len(pool), n, replace=False))].copy()
    stratum = keys.astype(str).agg("|".join, axis=1)
    members = {
        s: rng.permutation(np.flatnonzero(stratum.to_numpy() == s)) for s in stratum.unique()
    }
    take = dict.fromkeys(members, 0)
    left = n
    while left > 0:
        open_ = [s for s in members if take[s] < len(members[s])]
        share = max(1, left // len(open_))
        for s in open_:
            add = min(share, len(members[s]) - take[s], left)
            take[s] += add
            left -= add
            if left == 0:
                break
    chosen = np.sort(np.concatenate([members[s][: take[s]] for s in members]))
    return pool.iloc[chosen].copy()


def cost_estimate(
    sample: pd.DataFrame,
    price_in: float,
    price_out: float,
    prompt_overhead_tokens: int = 250,
    reply_tokens: int = 60,
    chars_per_token: float = 4.0,
) -> dict:
    """Judge tokens and cost for a sample (prices per million tokens; ~4 characters a token)."""
    chars = sample["prompt"].str.len().sum() + sample["response"].str.len().sum()
    tin = int(chars / chars_per_token) + prompt_overhead_tokens * len(sample)
    tout = reply_tokens * len(sample)
    return {
        "records": len(sample),
        "input_tokens": tin,
        "output_tokens": tout,
        "cost": round(tin / 1e6 * price_in + tout / 1e6 * price_out, 4),
    }
