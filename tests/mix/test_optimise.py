"""The ratio optimiser recovers a known synthetic optimum within its reported uncertainty."""

import numpy as np
import pytest

from instructmine.mix.grid import GridConfig, Sweep, enumerate_mixtures
from instructmine.mix.optimise import OptimiseError, optimise, parse_weights

COMPS = ["A", "C", "P"]
TARGETS = {"chat": np.array([0.6, 0.2, 0.2]), "code": np.array([0.1, 0.6, 0.3])}


def synthetic_rows(noise: float, seeds=(0, 1, 2), lower=False):
    """Rows of a real grid's mixtures, skills from a known quadratic surface plus noise."""
    cfg = GridConfig(
        components={c: {"pool": f"{c}.parquet", "category": c} for c in COMPS},
        per_type=100,
        sweeps=[Sweep(component=c, ratios=[0.25, 0.67, 1.5, 4], total=300) for c in COMPS],
    )
    rng = np.random.default_rng(123)
    rows = []
    for m in enumerate_mixtures(cfg):
        ratios = m.fractions(COMPS)
        x = np.array([ratios[c] for c in COMPS])
        for seed in seeds:
            res = {
                s: 1 - float(np.sum((x - t) ** 2)) + rng.normal(0, noise)
                for s, t in TARGETS.items()
            }
            if lower:
                res = {s: -v for s, v in res.items()}
            rows.append({"mixture": m.name, "seed": seed, "ratios": ratios, "results": res})
    return rows


@pytest.mark.parametrize("weights", ["chat=1,code=1", "chat=2,code=1"])
def test_recovers_the_weighted_optimum_within_its_interval(weights):
    w = parse_weights(weights)
    truth = sum(w[s] * TARGETS[s] for s in w) / sum(w.values())  # argmax of the weighted sum
    p = optimise(synthetic_rows(noise=0.01), w, bootstrap=100, step=0.02)
    for c, t in zip(COMPS, truth, strict=True):
        lo, hi = p.ratio_interval[c]
        assert lo - 0.01 <= t <= hi + 0.01, (c, t, lo, hi)  # 0.01 = half a grid step
        assert hi - lo < 0.25  # an informative interval, not the whole simplex
        assert abs(p.ratio[c] - t) <= max(3 * p.ratio_std[c], 0.02)
    assert abs(sum(p.ratio.values()) - 1) < 1e-9
    assert max(p.cv_rmse.values()) < 0.05  # the surface is in the model class: CV ≈ noise


def test_losses_are_minimised_when_flagged():
    rows = synthetic_rows(noise=0.005, lower=True)
    w = {"chat": 1.0}
    p = optimise(rows, w, bootstrap=20, lower_is_better=["chat"])
    assert np.allclose([p.ratio[c] for c in COMPS], TARGETS["chat"], atol=0.04)
    wrong = optimise(rows, w, bootstrap=0)  # maximising a loss goes elsewhere
    assert not np.allclose([wrong.ratio[c] for c in COMPS], TARGETS["chat"], atol=0.1)


def test_gradient_boosting_option_fits_and_reports_cv_error():
    p = optimise(
        synthetic_rows(noise=0.01, seeds=(0,)), {"chat": 1, "code": 1}, "gbm", 2, step=0.05
    )
    assert set(p.cv_rmse) == {"chat", "code"} and all(e > 0 for e in p.cv_rmse.values())
    assert abs(sum(p.ratio.values()) - 1) < 1e-9


def test_bad_inputs():
    with pytest.raises(OptimiseError, match="SKILL=NUMBER"):
        parse_weights("chat:2")
    with pytest.raises(OptimiseError, match=r"\['nlp'\].*chat"):
        optimise(synthetic_rows(noise=0.01, seeds=(0,)), {"nlp": 1.0})
