"""Held-out comparison: fitted rule vs paper rules vs single indicators vs random."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers_rule import draw, write

from instructmine.rule.compare import CompareConfig, compare_table
from instructmine.rule.compare_split import split_subsets
from instructmine.rule.fit import FitConfig, fit_table
from instructmine.rule.table import TableError
from shared_paths import run_cli

SIGNAL = {"reward.mean": -0.03, "mtld.mean": 0.0045}  # equal shares: 0.045 log-loss sd each


def _cfg(**kw) -> CompareConfig:
    return CompareConfig(n_boot=400, n_random=400, **kw)


def _method(c, name):
    return next(m for m in c.methods if m.name == name)


def test_signal_table_fitted_rule_ranks_held_out_well(tmp_path):
    rows, _ = draw(60, SIGNAL, noise_sd=0.01, seed=1)
    c = compare_table(write(tmp_path / "t.jsonl", rows), _cfg())
    fitted = _method(c, "fitted rule")
    assert fitted.rho > 0.8 and fitted.ci_low > 0.5
    assert {"reward.mean", "mtld.mean"} <= set(c.rule_terms)
    # each single indicator carries half the signal: the rule beats the best of them
    best = max((m for m in c.methods if m.kind == "indicator"), key=lambda m: m.fit_rho)
    assert best.name in SIGNAL
    assert best.detail.startswith("higher = better" if SIGNAL[best.name] < 0 else "higher = worse")
    texts = [v.text for v in c.verdicts]
    assert f"fitted rule beats best single indicator {best.name}" in " ".join(texts)
    assert any(t.startswith("fitted rule beats random") for t in texts)
    rnd = _method(c, "random")
    assert rnd.ci_low < 0 < rnd.ci_high and abs(c.random_orders["mean"]) < 0.05


def test_pure_noise_table_gives_cis_including_zero(tmp_path):
    rows, _ = draw(60, {}, noise_sd=0.02, seed=2)
    c = compare_table(write(tmp_path / "t.jsonl", rows), _cfg())
    fitted = _method(c, "fitted rule")
    assert fitted.ci_low < 0 < fitted.ci_high
    vs_random = next(v for v in c.verdicts if v.a == "fitted rule" and v.b == "random")
    assert "cannot tell" in vs_random.text
    indicators = [m for m in c.methods if m.kind == "indicator"]
    assert len(indicators) == 4
    assert sum(not (m.ci_low < 0 < m.ci_high) for m in indicators) <= 1  # ~5% each by chance


def test_held_out_never_used_in_the_fit(tmp_path):
    rows, _ = draw(40, SIGNAL, seed=3)
    path = write(tmp_path / "t.jsonl", rows)
    c = compare_table(path, _cfg(split_seed=7))
    ids = {r["subset_id"] for r in rows}
    assert set(c.fit_ids).isdisjoint(c.held_out_ids)
    assert set(c.fit_ids) | set(c.held_out_ids) == ids and len(c.held_out_ids) == 20
    assert c.rule_fitted_on == sorted(c.fit_ids)
    # scrambling the held-out losses leaves the fitted rule unchanged; the fit ones change it
    held = set(c.held_out_ids)
    rng = np.random.default_rng(0)
    for part, same in ((held, True), (ids - held, False)):
        moved = [
            {**r, "eval_loss": r["eval_loss"] * float(np.exp(rng.normal(0, 0.1)))}
            if r["subset_id"] in part
            else r
            for r in rows
        ]
        again = compare_table(write(tmp_path / "moved.jsonl", moved), _cfg(split_seed=7))
        assert again.held_out_ids == c.held_out_ids
        assert (again.rule_terms == c.rule_terms) is same


def test_split_is_seeded_and_holdout_explicit():
    ids = [f"s{i}" for i in range(10)]
    a, b = split_subsets(ids, 0.7, 1), split_subsets(ids, 0.7, 1)
    assert a == b and len(a[1]) == 3 and split_subsets(ids, 0.7, 2) != a
    fit, held = split_subsets(ids, 0.5, 0, holdout=["s1", "s2", "s3"])
    assert held == ["s1", "s2", "s3"] and "s1" not in fit
    with pytest.raises(TableError, match="lacks"):
        split_subsets(ids, 0.5, 0, holdout=["nope"])
    with pytest.raises(TableError, match="at least 3 held out"):
        split_subsets(ids, 0.9, 0)


def test_given_rule_holds_out_what_it_was_not_fitted_on(tmp_path):
    rows, _ = draw(30, SIGNAL, seed=4)
    path = write(tmp_path / "t.jsonl", rows)
    ids = sorted({r["subset_id"] for r in rows})
    rule = fit_table(path, FitConfig(n_boot=0), subset_ids=ids[:18])
    rule.save(tmp_path / "half.json")
    c = compare_table(path, _cfg(rule=str(tmp_path / "half.json")))
    assert c.held_out_ids == ids[18:] and c.fit_ids == ids[:18]
    assert "fit split" in c.sign_chosen_on
    some = _cfg(rule=str(tmp_path / "half.json"), holdout=[ids[0], *ids[20:24]])
    assert compare_table(path, some).held_out_ids == ids[20:24]  # ids[0] was fitted on
    with pytest.raises(TableError, match="lacks"):
        compare_table(path, _cfg(rule=str(tmp_path / "half.json"), holdout=["nope"]))
    fit_table(path, FitConfig(n_boot=0)).save(tmp_path / "all.json")
    with pytest.raises(TableError, match="need at least 3 held out"):
        compare_table(path, _cfg(rule=str(tmp_path / "all.json")))


def test_paper_rules_evaluated_when_the_table_has_their_aggregates(tmp_path):
    rows, _ = draw(30, SIGNAL, seed=5)
    c = compare_table(write(tmp_path / "t.jsonl", rows), _cfg())
    assert "unieval_naturalness.mean" in c.unavailable["paper-final"]
    assert "knn_6.mean" in c.unavailable["paper-early"]
    rng = np.random.default_rng(0)
    extra = {"knn_6.mean": {}, "output_length.mean": {}}
    for r in rows:
        for col, seen in extra.items():
            r[col] = seen.setdefault(r["subset_id"], float(rng.normal(1, 0.2)))
    c = compare_table(write(tmp_path / "t2.jsonl", rows), _cfg())
    early = _method(c, "paper-early")
    assert early.kind == "paper rule" and np.isfinite(early.rho)
    assert "paper-early" not in c.unavailable and "paper-final" in c.unavailable
    assert any(v.b == "paper-early" for v in c.verdicts)


def test_compare_cli(tmp_path):
    rows, _ = draw(40, SIGNAL, seed=6)
    table = write(tmp_path / "t.jsonl", rows)
    md = tmp_path / "report.md"
    r = run_cli("compare", table, "--n-boot", 200, "-o", md)
    assert r.returncode == 0, r.stderr
    assert "fitted rule" in r.stdout and "beats random" in r.stdout
    assert "not evaluated: paper-final" in r.stdout
    assert md.read_text().startswith("### Held-out comparison")
    r = run_cli("compare", table, "--n-boot", 200, "--json", "--fit-fraction", 0.6)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert len(data["held_out_ids"]) == 16 and not set(data["fit_ids"]) & set(data["held_out_ids"])
    r = run_cli("compare", tmp_path / "absent.jsonl")
    assert r.returncode != 0 and "absent.jsonl" in r.stderr


def test_report_never_overwrites_the_table(tmp_path):
    from instructmine.atomic import OutputPathError
    from instructmine.rule.compare_report import write_markdown

    rows, _ = draw(20, SIGNAL, seed=9)
    table = write(tmp_path / "t.jsonl", rows)
    c = compare_table(table, _cfg())
    with pytest.raises(OutputPathError):
        write_markdown(c, table)
    assert write_markdown(c, tmp_path / "c.md").read_text().startswith("### Held-out")
    assert write_markdown(c, tmp_path / "c.md").is_file()  # its own report: re-written
    notes = tmp_path / "notes.md"
    notes.write_text("mine\n")
    with pytest.raises(OutputPathError, match="--overwrite"):
        write_markdown(c, notes)  # a file instructmine did not write
    assert notes.read_text() == "mine\n"
    assert write_markdown(c, notes, overwrite=True).read_text().startswith("### Held-out")


def test_a_rule_of_one_indicator_ranks_like_it(tmp_path):
    rows, _ = draw(40, {"reward.mean": -0.05}, noise_sd=0.01, seed=8)
    path = write(tmp_path / "t.jsonl", rows)
    c = compare_table(path, _cfg(fit=FitConfig(n_boot=0, aggregates=["reward.mean"])))
    assert list(c.rule_terms) == ["reward.mean"]
    v = next(v for v in c.verdicts if v.b == "best single indicator reward.mean")
    assert "identically" in v.text and v.diff == 0
