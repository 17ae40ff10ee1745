"""A proposal's exact counts and name: what `mix optimise --run` builds and runs."""

import pytest

from instructmine.mix.proposal import measured_skills, proposal_counts, proposal_name
from instructmine.mix.spec import MixSpecError


def test_counts_split_the_total_by_largest_remainder():
    counts = proposal_counts({"A": 0.5, "C": 0.3, "P": 0.2}, 7)  # 3.5, 2.1, 1.4
    assert counts == {"A": 4, "C": 2, "P": 1} and sum(counts.values()) == 7
    assert proposal_counts({"A": 0.0, "C": 2.0, "P": 2.0}, 9) == {"C": 5, "P": 4}
    assert proposal_name({"P": 4, "C": 5}) == "proposal:C=5,P=4"
    with pytest.raises(MixSpecError):
        proposal_counts({"A": 0.0}, 10)


def test_measured_skills_mean_and_sd_over_seeds():
    rows = [{"results": {"chat": 1.0, "code": 0.2}}, {"results": {"chat": 3.0}}]
    got = measured_skills(rows, ["chat", "code", "nlp"])
    assert got["chat"] == {"mean": 2.0, "sd": pytest.approx(2**0.5), "n": 2}
    assert got["code"] == {"mean": 0.2, "sd": None, "n": 1} and "nlp" not in got


def test_named_mixtures_join_the_grid_and_bad_ones_are_refused(tmp_path, pools):
    import yaml

    from instructmine.mix.grid import enumerate_mixtures, load_grid

    comps = {"A": {"pool": str(pools["alpaca"]), "category": "chat"}}
    comps["C"] = {"pool": str(pools["codealpaca"]), "category": "code"}
    path = tmp_path / "grid.yaml"
    doc = {"components": comps, "per_type": 4, "mixtures": {"mine": {"A": 3, "C": 1}}}
    path.write_text(yaml.safe_dump(doc))
    names = [m.name for m in enumerate_mixtures(load_grid(path))]
    assert names == ["None", "A", "C", "AC", "mine"]
    for bad in ({"Z": 3}, {"A": 0}, {"A": -1}):
        path.write_text(yaml.safe_dump({**doc, "mixtures": {"mine": bad}}))
        with pytest.raises(MixSpecError, match="mixtures.mine"):
            load_grid(path)
