"""The distilled scorer: metrics, label sampling, train/eval on real AlpacaEval judgement files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from instructmine.scorer.metrics import agreement
from instructmine.scorer.pool import cost_estimate, sample_for_labels
from shared_paths import REPO, shared_data_or_skip


def _toy(n_groups=40, per=6, seed=0):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per)
    y = rng.random(len(g))
    length = rng.integers(50, 2000, len(g))
    return g, y, length


def test_agreement_perfect_reversed_and_length_control():
    g, y, length = _toy()
    good = agreement(g, y, y, length, n_boot=50)
    assert good["spearman"]["value"] == pytest.approx(1.0)
    assert good["pair_acc"]["value"] == pytest.approx(1.0)
    bad = agreement(g, y, -y, length, n_boot=50)
    assert bad["spearman"]["value"] == pytest.approx(-1.0)
    assert bad["pair_acc"]["value"] == pytest.approx(0.0)
    # labels that are pure length: a length scorer agrees raw, but not with length held fixed
    y_len = np.log(length) + 0.0
    raw = agreement(
        g,
        y_len,
        np.log(length) + np.random.default_rng(1).normal(0, 1e-3, len(g)),
        length,
        margin=0.01,
        n_boot=50,
    )
    assert raw["spearman"]["value"] > 0.99
    lo, hi = raw["spearman"]["ci"]
    assert lo <= raw["spearman"]["value"] <= hi


def test_sample_is_stratified_and_costed():
    df = pd.DataFrame(
        {
            "prompt": ["p"] * 1000,
            "response": ["r" * 40] * 1000,
            "source": ["a"] * 900 + ["b"] * 100,
            "output_length": np.arange(1000),
        }
    )
    s = sample_for_labels(df, 200, ["source"], ["output_length"], bins=2)
    assert len(s) == 200
    # strata a|short, a|long, b|long (b's answers are all long): an equal share each, so the
    # small source gets ~1/3 of the sample, not its 10% of the pool
    assert 60 <= (s["source"] == "b").sum() <= 70
    assert not s.index.duplicated().any()
    est = cost_estimate(s, price_in=1.0, price_out=2.0)
    assert est["records"] == 200 and est["input_tokens"] > 200 * 250 and est["cost"] > 0


def _cli(*args, cwd):
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "OMP_WAIT_POLICY": "PASSIVE"}
    import os

    env["INSTRUCTMINE_CACHE"] = os.environ.get("INSTRUCTMINE_CACHE", "")
    return subprocess.run(
        [sys.executable, "-c", "from instructmine.cli import main; main()", *args, "--json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_train_eval_on_real_judgements_and_score_as_indicator(tmp_path):
    src = shared_data_or_skip() / "alpaca_eval_judgements"
    folder = tmp_path / "judgements"
    folder.mkdir()
    for m in (
        "vicuna-7b",
        "alpaca-7b",
        "claude-2",
        "gpt-3.5-turbo-1106",
        "falcon-7b-instruct",
        "NullModel",
    ):
        (folder / f"{m}.json.gz").symlink_to(src / f"{m}.json.gz")
    pool = tmp_path / "pool.parquet"
    r = _cli("scorer", "pool", str(folder), "-o", str(pool), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["models"] == 6
    out = tmp_path / "scorer"
    r = _cli(
        "scorer",
        "train",
        str(pool),
        "--label",
        "label",
        "-o",
        str(out),
        "--heldout-model",
        "falcon-7b-instruct",
        "--heldout-model",
        "claude-2",
        "--heldout-model",
        "gpt-3.5-turbo-1106",
        "--n-boot",
        "50",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    meta = json.loads((out / "scorer.json").read_text())
    assert meta["train_models"] == ["alpaca-7b", "vicuna-7b"]
    held = meta["heldout_metrics"]
    assert held["models"] == ["claude-2", "falcon-7b-instruct", "gpt-3.5-turbo-1106"]
    assert held["scorer"]["instructions"] > 700
    assert -1 <= held["scorer"]["spearman"]["value"] <= 1
    assert held["adversarial"]["models_ranked"] == 6

    # eval refuses a pool made only of models it trained on
    train_only = tmp_path / "train_only.parquet"
    df = pd.read_parquet(pool)
    df[df.model.isin(meta["train_models"])].to_parquet(train_only)
    r = _cli("scorer", "eval", str(out), str(train_only), "--label", "label", cwd=tmp_path)
    assert r.returncode != 0 and "training set" in r.stderr
    r = _cli(
        "scorer", "eval", str(out), str(pool), "--label", "label", "--n-boot", "20", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["scorer"]["pairs"] == held["scorer"]["pairs"]

    from instructmine.indicators.base import Example
    from instructmine.indicators.registry import create

    ind = create("quality_scorer", model=str(out))
    ind.setup()
    ex = [
        Example("a", [], [{"role": "user", "content": "Name a fruit."}], "An apple is a fruit."),
        Example("b", [], [{"role": "user", "content": "Name a fruit."}], "} } } ;; }"),
    ]
    s = ind.score(ex)["quality_scorer"]
    assert s.shape == (2,) and np.isfinite(s).all()
    prov = ind.provenance()
    assert prov["scorer"]["train_models"] == meta["train_models"]
    assert prov["scorer"]["heldout_agreement"]["scorer"]["pairs"] == held["scorer"]["pairs"]


def test_shipped_default_scorer_and_the_offline_reward_substitute():
    from instructmine.indicators.base import Example
    from instructmine.indicators.registry import create

    good = Example(
        "a",
        [],
        [{"role": "user", "content": "Explain why the sky is blue."}],
        "The sky looks blue because air molecules scatter short (blue) wavelengths of sunlight "
        "much more than long (red) ones: Rayleigh scattering grows as 1/wavelength^4.",
    )
    junk = Example(
        "b",
        [],
        [{"role": "user", "content": "Explain why the sky is blue."}],
        "} } } verify }:param } } withObject } ## Model Outputs } } ;",
    )
    q = create("quality_scorer")
    q.setup()
    qs = q.score([good, junk])["quality_scorer"]
    assert qs[0] > qs[1]
    prov = q.provenance()
    assert prov["scorer"]["labels"]["judge"].startswith("weighted_alpaca_eval_gpt4_turbo")
    assert prov["scorer"]["heldout_agreement"]["scorer"]["spearman"]["value"] > 0

    r = create("reward", model="distilled")
    assert r.is_substitute and "SUBSTITUTE" in r.note
    r.setup()
    np.testing.assert_allclose(r.score([good, junk])["reward"], qs)
    assert r.provenance()["substitute"] is True
