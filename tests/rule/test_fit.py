"""The fit on synthetic experiments tables drawn from known coefficients plus noise."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_rule import draw, write

from instructmine.rule.fit import FitConfig, fit_table

TRUE = {"reward.mean": -0.02, "perplexity.median": 0.01, "mtld.mean": -0.002}


def _raw(term):
    """A term's coefficient and CI on the raw scale of its aggregate."""
    return term.coef / term.std, term.ci_low / term.std, term.ci_high / term.std


def test_recovers_known_coefficients_inside_their_cis(tmp_path):
    covered, total = 0, 0
    for rep in range(12):
        rows, _ = draw(40, TRUE, noise_sd=0.01, seed=rep)
        path = write(tmp_path / f"t{rep}.jsonl", rows)
        rule = fit_table(path, FitConfig(select="none", n_boot=0, aggregates=list(TRUE)))
        for t in rule.terms:
            _, lo, hi = _raw(t)
            covered += lo <= TRUE[t.aggregate] <= hi
            total += 1
    # 95% intervals: across 36 intervals, coverage far below nominal means the fit is wrong.
    assert covered / total >= 0.85


def test_point_estimates_and_bootstrap_close_to_truth(tmp_path):
    rows, _ = draw(80, TRUE, noise_sd=0.005, seed=42)
    rule = fit_table(write(tmp_path / "t.jsonl", rows), FitConfig(select="none", n_boot=300))
    by = {t.aggregate: t for t in rule.terms}
    for name, b in TRUE.items():
        est, lo, hi = _raw(by[name])
        assert est == pytest.approx(b, rel=0.2)
        assert by[name].boot_low / by[name].std <= b <= by[name].boot_high / by[name].std
    # output_length has no effect: its estimate is near zero relative to its SE.
    assert abs(by["output_length.mean"].coef) < 4 * by["output_length.mean"].se
    assert rule.fit["r2"] > 0.9 and rule.fit["cv_r2"] > 0.8
    assert rule.fit["adj_r2"] <= rule.fit["r2"]


@pytest.mark.parametrize("select", ["bic", "pvalue", "cv"])
def test_selection_drops_the_irrelevant_indicator(tmp_path, select):
    rows, _ = draw(60, TRUE, noise_sd=0.003, seed=7)
    rule = fit_table(write(tmp_path / "t.jsonl", rows), FitConfig(select=select, n_boot=0))
    kept = {t.aggregate for t in rule.terms}
    assert set(TRUE) <= kept
    if select != "cv":  # CV R² may keep a null regressor that costs it nothing out of fold
        assert "output_length.mean" not in kept


def test_collinear_design_flagged_and_redundant_indicator_dropped(tmp_path):
    rows, _ = draw(60, TRUE, noise_sd=0.003, seed=3, collinear="reward2.mean")
    path = write(tmp_path / "t.jsonl", rows)
    rule = fit_table(path, FitConfig(select="none", n_boot=0, ridge="never"))
    vif = rule.fit["vif_all_candidates"]
    assert vif["reward.mean"] > 10 and vif["reward2.mean"] > 10
    assert vif["mtld.mean"] < 10
    assert rule.fit["collinear"]
    chosen = fit_table(path, FitConfig(select="bic", n_boot=0))
    kept = {t.aggregate for t in chosen.terms}
    assert len(kept & {"reward.mean", "reward2.mean"}) == 1
    assert not chosen.fit["collinear"] and chosen.fit["method"] == "ols"


def test_ridge_when_collinear_terms_are_kept(tmp_path):
    rows, _ = draw(60, TRUE, noise_sd=0.003, seed=3, collinear="reward2.mean")
    path = write(tmp_path / "t.jsonl", rows)
    rule = fit_table(path, FitConfig(select="none", n_boot=50))
    assert rule.fit["method"] == "ridge" and rule.fit["ridge_alpha"] > 0
    assert all(t.pvalue is None for t in rule.terms)
    # the predictions still track the truth
    X = {t.aggregate: np.array([r[t.aggregate] for r in rows]) for t in rule.terms}
    pred = rule.predict(X, per="aggregate")
    truth = np.log([r["eval_loss"] for r in rows])
    assert np.corrcoef(pred, truth)[0, 1] > 0.95


def test_seed_averaging_and_noise_ceiling(tmp_path):
    rows, _ = draw(30, TRUE, noise_sd=0.02, seeds=3, seed=5)
    rule = fit_table(write(tmp_path / "t.jsonl", rows), FitConfig(select="none", n_boot=0))
    assert rule.fit["n_subsets"] == 30
    nc = rule.fit["noise_ceiling"]
    assert 0 < nc["variance"] < 1 and 0 < nc["split_half"] < 1
    assert nc["seed_sd"] == pytest.approx(0.02, rel=0.3)
    # with far more noise, the ceiling falls
    noisy, _ = draw(30, TRUE, noise_sd=0.2, seeds=3, seed=5)
    low = fit_table(write(tmp_path / "n.jsonl", noisy), FitConfig(select="none", n_boot=0))
    assert low.fit["noise_ceiling"]["variance"] < nc["variance"]


def test_ceiling_absent_with_one_seed(tmp_path):
    rows, _ = draw(20, TRUE, seeds=1, seed=1)
    rule = fit_table(write(tmp_path / "t.jsonl", rows), FitConfig(select="none", n_boot=0))
    assert rule.fit["noise_ceiling"]["variance"] is None
