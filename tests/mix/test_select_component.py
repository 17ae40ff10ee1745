"""Per-component selection: a mixture component taking the top of a rule's ranking."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from instructmine.io.pool import pool_ids
from instructmine.mix.build import build_mixture, manifest_path
from instructmine.mix.grid import enumerate_mixtures, load_grid, mixture_spec
from instructmine.mix.spec import MixSpecError
from instructmine.rule.rank import rank_pool
from instructmine.rule.rules import Rule, RuleTerm


@pytest.fixture
def ranked(tmp_path, pools):
    """The alpaca pool scored by MTLD (real scorer) and ranked by a one-term rule."""
    from instructmine.scoring.run import score_pool

    score_pool(pools["alpaca"], tmp_path / "scores", indicators=["mtld"], progress=False)
    rule = Rule(name="rich", intercept=0.0, terms=[RuleTerm(aggregate="mtld.mean", coef=-1.0)])
    out = tmp_path / "alpaca.ranked.parquet"
    rank_pool(tmp_path / "scores", rule, out)
    return out


def _spec(tmp_path, pools, ranked, count):
    spec = {
        "seed": 3,
        "components": {
            "chat": {
                "pool": str(pools["alpaca"]),
                "category": "chat",
                "count": count,
                "select": {"ranked": str(ranked)},
            },
            "code": {"pool": str(pools["codealpaca"]), "category": "code", "count": 5},
        },
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_selected_component_takes_the_top_of_the_ranking(tmp_path, pools, ranked):
    table = pq.read_table(ranked)
    top = table.column("id").to_pylist()[:8]
    mtld = pq.read_table(tmp_path / "scores" / "mtld.parquet")
    by_id = dict(zip(mtld["id"].to_pylist(), mtld["mtld"].to_pylist(), strict=True))
    assert min(by_id[i] for i in top) >= max(
        v for i, v in by_id.items() if i not in top and v is not None
    )  # the top 8 by the rule are the 8 richest responses
    s = build_mixture(_spec(tmp_path, pools, ranked, 8), tmp_path / "m.parquet")
    assert s.ids["chat"] == top
    assert len(s.ids["code"]) == 5  # the other component is still a seeded sample
    doc = json.loads(manifest_path(tmp_path / "m.parquet").read_text())
    assert "ranked:chat" in doc["stage"]["inputs"]
    # a changed ranking makes the build stale (not skipped)
    t = table.take(pa.array(list(range(table.num_rows))[::-1]))
    pq.write_table(t, ranked)
    again = build_mixture(_spec(tmp_path, pools, ranked, 8), tmp_path / "m.parquet")
    assert not again.skipped and again.ids["chat"] != top


def test_asking_for_more_than_is_ranked_names_the_fix(tmp_path, pools, ranked):
    n = len(pool_ids(pools["alpaca"]))
    with pytest.raises(MixSpecError, match=r"top 999 of .*ranks only \d+ records"):
        build_mixture(_spec(tmp_path, pools, ranked, 999), tmp_path / "m.parquet")
    with pytest.raises(MixSpecError, match="no ranking .*instructmine rank"):
        build_mixture(_spec(tmp_path, pools, tmp_path / "nope.parquet", 3), tmp_path / "m.parquet")
    assert not (tmp_path / "m.parquet").exists() and n == 30


def test_grid_components_pass_their_selection_to_every_mixture(tmp_path, pools, ranked):
    cfg_path = tmp_path / "grid.yaml"
    cfg_path.write_text(
        yaml.safe_dump(
            {
                "per_type": 6,
                "components": {
                    "A": {
                        "pool": str(pools["alpaca"]),
                        "category": "chat",
                        "select": {"ranked": ranked.name},
                    },
                    "C": {"pool": str(pools["codealpaca"]), "category": "code"},
                },
            }
        )
    )
    cfg = load_grid(cfg_path)
    top = pq.read_table(ranked).column("id").to_pylist()[:6]
    for mixture in enumerate_mixtures(cfg):
        if "A" in mixture.counts:
            spec = mixture_spec(cfg, mixture, seed=0)
            out = tmp_path / f"{mixture.name}.parquet"
            assert build_mixture(spec, out).ids["A"] == top
