"""Selection methods are a registry: a toy method registered here appears in ``select``,
``select-compare``'s methods and the size search's objective; unknown names say "did you mean"."""

from __future__ import annotations

import json

import numpy as np
import pytest

from instructmine.io import ingest, read_pool
from instructmine.select import methods
from instructmine.select.config import SelectConfig
from instructmine.select.methods import SelectionMethod
from instructmine.select.run import run_select
from instructmine.select.subsets import Ranking, Trial
from shared_paths import FIXTURES


class Shortest(SelectionMethod):
    """A toy method: the shortest answers first."""

    name = "shortest"
    summary = "the shortest answers first"
    ranks_by = "answer_length"

    def ranking(self, inputs, config):

        t = read_pool(inputs.ranked or inputs.pool)
        lengths = [float(len(m[-1]["content"])) for m in t["messages"].to_pylist()]
        return t["id"].combine_chunks(), np.asarray(lengths)


def mean_answer_length(pool, workdir) -> float:
    """A cheap ``fit`` for the size search: the subset's mean answer length (a real file)."""
    msgs = read_pool(pool)["messages"].to_pylist()
    return sum(len(m[-1]["content"]) for m in msgs) / len(msgs)


@pytest.fixture
def toy():
    methods.register(Shortest)
    yield Shortest
    methods.unregister("shortest")


@pytest.fixture
def pool(tmp_path):
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text())[:40]
    (tmp_path / "pool.json").write_text(json.dumps(recs))
    ingest([tmp_path / "pool.json"], tmp_path / "pool.parquet")
    return tmp_path / "pool.parquet"


def _shortest(pool, n):
    t = read_pool(pool)
    lengths = {
        i: len(m[-1]["content"])
        for i, m in zip(t["id"].to_pylist(), t["messages"].to_pylist(), strict=True)
    }
    return sorted(lengths, key=lambda i: (lengths[i], i))[:n], lengths


def test_a_registered_method_appears_in_select(toy, pool, tmp_path):
    from typer.testing import CliRunner

    from instructmine.cli.app import app

    want, _ = _shortest(pool, 5)
    s = run_select(pool, tmp_path / "a.parquet", SelectConfig(method="shortest", top=5))
    assert s.ids == want and s.method == "shortest"
    assert s.rule == {"by": "answer_length", "order": "ascending"}
    r = CliRunner().invoke(
        app,
        [
            "select",
            str(pool),
            "--method",
            "shortest",
            "--top",
            "5",
            "-o",
            str(tmp_path / "b.parquet"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert set(read_pool(tmp_path / "b.parquet")["id"].to_pylist()) == set(want)


def test_a_registered_method_appears_in_select_compare(toy, pool, tmp_path):
    from instructmine.select.compare import build_subsets, plan_methods
    from instructmine.select.compare_config import CompareConfig

    cfg = CompareConfig(pool=pool, eval=pool, n=4, out=tmp_path / "cmp", seeds=[0, 1])
    planned, not_run = plan_methods(cfg)
    assert planned == ["rds", "random", "shortest"]  # every method whose inputs are given
    assert set(not_run) == {"rule", "ifd"} and "instructmine rank" in not_run["rule"]
    subsets = build_subsets(cfg, ["random", "shortest"])
    want, _ = _shortest(pool, 4)
    assert subsets["shortest:4:0"][0] == subsets["shortest:4:1"][0] == want
    assert (tmp_path / "cmp" / "subsets" / "shortest.select.json").is_file()
    # random's subsets are the seeded draws a random trial takes (nested across n)
    ids = read_pool(pool)["id"].to_numpy(zero_copy_only=False)
    for seed in cfg.random_seeds:
        draw = Ranking(ids, np.arange(len(ids))).subset(Trial(4, "random", seed))
        assert subsets[f"random:4:{seed}"][0] == draw
    explicit = cfg.model_copy(update={"methods": ["shortest", "random"]})
    assert plan_methods(explicit) == (["random", "shortest"], {})


def test_a_registered_method_appears_in_the_size_search(toy, pool, tmp_path):
    from instructmine.search.config import SearchConfig
    from instructmine.search.run import run_search

    cfg = SearchConfig(
        objective={
            "factory": "instructmine.search.objectives:subset_loss",
            "params": {"fit": "test_method_registry:mean_answer_length", "method": "shortest"},
        },
        out=tmp_path / "s",
        pool=pool,
        lo=3,
        hi=25,
        trials=3,
        grid=3,
        baseline="none",
    )
    result = run_search(cfg)
    _, lengths = _shortest(pool, 40)
    ranked = sorted(lengths, key=lambda i: (lengths[i], i))
    assert result.rows
    for row in result.rows:
        assert row.loss == pytest.approx(np.mean([lengths[i] for i in ranked[: row.n]]))


def test_unknown_methods_say_did_you_mean(toy, pool, tmp_path):
    from instructmine.search.objective import SearchContext
    from instructmine.search.objectives import subset_loss
    from instructmine.select.compare_config import CompareConfig

    with pytest.raises(ValueError, match=r"unknown selection method 'shortst'.*'shortest'"):
        SelectConfig(method="shortst", top=3)
    with pytest.raises(ValueError, match=r"Did you mean 'random'"):
        CompareConfig(pool=pool, eval=pool, n=4, out=tmp_path, methods=["randm"])
    context = SearchContext(None, pool, tmp_path)
    with pytest.raises(ValueError, match=r"Did you mean 'shortest'"):
        subset_loss(context, "test_method_registry:mean_answer_length", method="shortets")
    assert "shortest" in methods.registered() and methods.get("shortest").name == "shortest"


def test_the_toy_is_gone_after_its_test():
    assert "shortest" not in methods.registered()
    assert list(methods.registered())[:4] == ["rule", "rds", "ifd", "random"]


def test_random_selects_the_seeded_draw(pool, tmp_path):
    ids = read_pool(pool)["id"].to_numpy(zero_copy_only=False)
    for seed in (0, 3):
        s = run_select(
            pool, tmp_path / f"r{seed}.parquet", SelectConfig(method="random", top=6, seed=seed)
        )
        assert s.ids == Ranking(ids, np.arange(len(ids))).subset(Trial(6, "random", seed))
    assert s.rule == {"by": "random_rank", "order": "ascending"}
