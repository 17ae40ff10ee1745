"""Signal-to-noise and Spearman agreement of proxy protocols."""

import math

import numpy as np
import pytest

from instructmine.proxy.stats import signal_to_noise, spearman, spearman_ci


def test_snr_is_spread_over_pooled_seed_sd():
    rows = [
        {"subset_id": s, "seed": 0, "eval_loss": v}
        for s, v in zip("abcd", [1, 2, 3, 4], strict=True)
    ]
    rows += [
        {"subset_id": "a", "seed": 1, "eval_loss": 1.5},
        {"subset_id": "b", "seed": 1, "eval_loss": 2.5},
    ]
    got = signal_to_noise(rows)
    seed_sd = math.sqrt((0.125 + 0.125) / 2)
    assert got.seed_sd == pytest.approx(seed_sd)
    assert got.spread_sd == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    assert got.snr == pytest.approx(got.spread_sd / seed_sd)
    assert (got.n_subsets, got.n_noise_subsets) == (4, 2)


def test_snr_needs_repeats():
    with pytest.raises(ValueError, match="≥ 2 seeds"):
        signal_to_noise([{"subset_id": s, "seed": 0, "eval_loss": 1.0} for s in "ab"])


def test_spearman_matches_ranks_with_ties():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ties averaged: ranks (1.5, 1.5, 3) vs (1, 2, 3)
    assert spearman([5, 5, 7], [1, 2, 3]) == pytest.approx(
        np.corrcoef([1.5, 1.5, 3], [1, 2, 3])[0, 1]
    )


def test_bootstrap_ci_brackets_the_estimate():
    rng = np.random.default_rng(1)
    x = rng.normal(size=30)
    y = x + rng.normal(scale=0.5, size=30)
    got = spearman_ci(x, y, n_boot=500)
    assert got.low <= got.spearman <= got.high
    assert 0 < got.low < got.high < 1
