"""The proxy's ``epochs`` mode: training steps grow with the sub-dataset, as a size search needs."""

from __future__ import annotations

import pytest

from instructmine.rule.proxy_config import ProxyConfig
from instructmine.rule.rules import load_rule


def test_epochs_turn_records_into_steps():
    assert ProxyConfig(steps=36).n_steps(5000) == 36  # fixed budget: n does not matter
    cfg = ProxyConfig(batch_size=8, epochs=1)
    assert [cfg.n_steps(n) for n in (1, 8, 9, 288, 9000)] == [1, 1, 2, 36, 1125]
    assert ProxyConfig(batch_size=8, epochs=2.5).n_steps(16) == 5
    with pytest.raises(ValueError):
        ProxyConfig(epochs=0)


def test_unset_epochs_keep_the_protocol_of_the_fitted_rule():
    fitted = load_rule("smollm2-proxy").provenance.protocols
    assert ProxyConfig().protocol() in fitted  # the built-in rule's experiments: L20-full
    assert ProxyConfig(epochs=1).protocol() not in fitted  # a different protocol, named apart
    assert ProxyConfig(epochs=1).protocol() != ProxyConfig(epochs=2).protocol()


def test_an_epoch_takes_one_step_per_batch_of_records(tmp_path, rule_data, tiny_llama_dir):
    from instructmine.rule.proxy import run_proxy
    from instructmine.rule.trunk_cache import cache_for_pool
    from shared_paths import tiny_proxy

    cfg = ProxyConfig.model_validate({**tiny_proxy(tiny_llama_dir), "epochs": 1})
    cache = cache_for_pool(cfg, str(rule_data["pool"]), str(rule_data["eval"]), str(tmp_path))
    index = cache.index()
    ids = sorted(index)[:12]
    small = run_proxy(cfg, cache, ids[:4], seed=0)
    large = run_proxy(cfg, cache, ids, seed=0)
    assert (small.steps, large.steps) == (1, 3)  # batch_size 4: one step per 4 records
    twice = run_proxy(cfg.model_copy(update={"epochs": 2}), cache, ids, seed=0)
    assert twice.steps == 6 and twice.eval_loss != large.eval_loss
