"""The grid summary: per-mixture stats over seeds and the paper's findings as Welch tests,
checked against scipy's own t-tests and on synthetic grids with known effects."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from instructmine.mix.summary import (
    Stat,
    findings_markdown,
    paper_findings,
    remeasure,
    skill_stats,
    stats_markdown,
    welch,
)

CATS = {"A": "chat", "C": "code", "P": "nlp"}


def test_welch_matches_scipy_two_sample_and_one_sample():
    a, b = [1.0, 1.3, 0.9, 1.2], [0.7, 0.8, 1.0]
    sa = skill_stats([{"mixture": "a", "results": {"s": x}} for x in a], ["s"])["a"]["s"]
    sb = skill_stats([{"mixture": "b", "results": {"s": x}} for x in b], ["s"])["b"]["s"]
    assert sa.n == 4 and math.isclose(sa.sd, np.std(a, ddof=1))
    se, p = welch(sa, sb)
    assert math.isclose(p, sps.ttest_ind(a, b, equal_var=False).pvalue, rel_tol=1e-9)
    assert math.isclose(se, math.sqrt(np.var(a, ddof=1) / 4 + np.var(b, ddof=1) / 3))
    base = Stat(0.8, 0.0, 1)  # the base model: a constant
    se1, p1 = welch(sa, base, fixed={1})
    assert math.isclose(p1, sps.ttest_1samp(a, 0.8).pvalue, rel_tol=1e-9)
    assert welch(Stat(1.0, 0.0, 1), sb) == (None, None)  # one seed, not fixed: no SE


def _grid_rows(effects, seeds=3, noise=0.002, rng=None):
    """Rows for None + the 7 mixtures: chat = base + sum of each component's effect + noise."""
    rng = rng or np.random.default_rng(0)
    rows = [{"mixture": "None", "results": {"chat": 0.0, "code": 0.0, "nlp": 0.0}}]
    for name in ["A", "C", "P", "AC", "AP", "CP", "ACP"]:
        for _ in range(seeds):
            res = {}
            for skill in ("chat", "code", "nlp"):
                mean = sum(effects[skill].get(c, 0.0) for c in name)
                res[skill] = mean + rng.normal(0, noise)
            rows.append({"mixture": name, "results": res})
    return rows


def test_findings_follow_known_effects_and_say_cannot_tell_inside_the_noise():
    effects = {
        "chat": {"A": 0.10, "C": 0.03, "P": -0.05},  # P hurts chat, C helps it
        "code": {"C": 0.05, "A": 0.0001},  # A's effect on code is far below the noise
        "nlp": {"P": 0.04, "A": 0.02, "C": 0.02},
    }
    st = skill_stats(_grid_rows(effects), ["chat", "code", "nlp"])
    got = {(c.finding, c.a, c.b): c for c in paper_findings(st, CATS)}
    assert got[("NLP-task data hurts alignment", "AP", "A")].verdict == "held"
    assert got[("NLP-task data hurts alignment", "ACP", "AC")].verdict == "held"
    assert got[("code helps alignment", "AC", "A")].verdict == "held"
    assert got[("each type helps its own skill", "C", "None")].verdict == "held"
    assert got[("each type helps its own skill most", "A", "P")].verdict == "held"
    assert got[("each type helps its own skill most", "C", "A")].verdict == "held"
    assert got[("every type helps NLP", "A", "None")].verdict == "held"
    # the reverse of the paper: make P help chat
    effects["chat"]["P"] = +0.05
    st = skill_stats(_grid_rows(effects), ["chat", "code", "nlp"])
    rev = {(c.finding, c.a, c.b): c for c in paper_findings(st, CATS)}
    assert rev[("NLP-task data hurts alignment", "AP", "A")].verdict == "reversed"
    # an effect far inside the noise: cannot tell
    effects["chat"]["C"] = 0.0001
    st = skill_stats(_grid_rows(effects, noise=0.01), ["chat", "code", "nlp"])
    tiny = {(c.finding, c.a, c.b): c for c in paper_findings(st, CATS)}
    assert tiny[("code helps alignment", "AC", "A")].verdict == "cannot tell"
    table = findings_markdown(list(tiny.values()))
    assert "| code helps alignment | chat | AC − A | a > b |" in table


def test_ratio_sweep_finding_tests_the_1_5_point_against_every_other_ratio():
    rng = np.random.default_rng(1)
    rows = []
    for r, code in [(0.5, 0.0), (1.5, 0.05), (3.0, 0.049)]:  # 1.5 beats 0.5, ties 3
        for _ in range(3):
            res = {"code": code + rng.normal(0, 0.003), "chat": rng.normal(0, 0.003)}
            rows.append({"mixture": f"C:A={r:g}", "results": res})
    st = skill_stats(rows, ["code", "chat"])
    got = {(c.skill, c.b): c.verdict for c in paper_findings(st, CATS) if "ratio" in c.finding}
    assert got[("code", "C:A=0.5")] == "held"
    assert got[("code", "C:A=3")] == "cannot tell"
    assert set(got) == {
        ("code", "C:A=0.5"),
        ("code", "C:A=3"),
        ("chat", "C:A=0.5"),
        ("chat", "C:A=3"),
    }


def test_missing_mixtures_are_left_out_and_one_seed_says_so():
    rows = [
        {"mixture": "None", "results": {"chat": 0.0}},
        {"mixture": "A", "results": {"chat": 0.1}},
    ]
    st = skill_stats(rows, ["chat", "code"])
    (only,) = paper_findings(st, CATS)  # A − None on chat; nothing else was run
    assert (only.a, only.b, only.verdict) == ("A", "None", "one seed")
    assert "| None | 0.0000 ± 0.0000 (1) | — |" in stats_markdown(st, ["chat", "code"])


@pytest.mark.parametrize("n", [2, 5])
def test_stats_are_over_every_seed(n):
    rows = [{"mixture": "A", "results": {"s": float(i)}} for i in range(n)]
    s = skill_stats(rows, ["s"])["A"]["s"]
    assert s.n == n and math.isclose(s.mean, (n - 1) / 2)


def test_remeasure_derives_skills_from_other_results_and_names_missing_keys():
    rows = [{"mixture": "A", "seed": 0, "results": {"chat": -2.6, "loss/mt_bench": 0.73}}]
    out = remeasure(rows, {"chat": "-loss/mt_bench"})
    assert out[0]["results"]["chat"] == -0.73 and rows[0]["results"]["chat"] == -2.6
    with pytest.raises(KeyError, match="mixture A seed 0 has no result 'loss/piqa'"):
        remeasure(rows, {"nlp": "loss/piqa"})
