"""The registry: names, parameters that reject unknown keys, listing, cache keys."""

from __future__ import annotations

import pytest

from instructmine.indicators.catalog import catalog
from instructmine.indicators.registry import (
    DEFAULT_INDICATORS,
    UnknownIndicatorError,
    create,
    registered,
)


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownIndicatorError, match="Did you mean 'perplexity'"):
        create("perplexty")


def test_unknown_parameter_is_an_error():
    with pytest.raises(ValueError, match="threshhold"):
        create("mtld", threshhold=0.7)
    with pytest.raises(ValueError, match="given by the name"):
        create("knn_6", k=3)


def test_knn_name_carries_k():
    ind = create("knn_10")
    assert ind.params.k == 10 and ind.columns == ("knn_10",)


def test_default_set_runs_offline_and_leaves_out_reward_and_placeholders():
    assert "reward" not in DEFAULT_INDICATORS
    assert not any(n.startswith("unieval") for n in DEFAULT_INDICATORS)
    for name in DEFAULT_INDICATORS:
        ind = create(name)
        assert ind.model_name is None or ind.model_name in (
            "smollm2-135m-instruct",
            "all-minilm-l6-v2",
        )


def test_cache_key_follows_results_not_speed():
    a = create("perplexity")
    assert a.cache_key() == create("perplexity", batch_size=2).cache_key()
    assert a.cache_key() != create("perplexity", template="plain").cache_key()
    assert create("mtld").cache_key() != create("mtld", threshold=0.7).cache_key()


def test_cache_key_follows_local_model_contents(tmp_path):
    (tmp_path / "config.json").write_text('{"a": 1}')
    before = create("perplexity", model=str(tmp_path)).cache_key()
    (tmp_path / "config.json").write_text('{"a": 2}')
    assert create("perplexity", model=str(tmp_path)).cache_key() != before


def test_catalog_lists_every_indicator_with_model_status():
    rows = {r["name"]: r for r in catalog()}
    assert len(rows) == len(registered())
    assert rows["reward"]["model_status"].startswith("no default")
    assert rows["unieval_naturalness"]["model_status"] == "offline substitute"
    assert "PLACEHOLDER" in rows["unieval_naturalness"]["note"]
    assert rows["mtld"]["model"] is None and rows["mtld"]["default"]
    assert rows["knn_<k>"]["params"]["k"] == 6
