"""The proxy's chunked loss and micro-batches: the same experiment results as the old path."""

from __future__ import annotations

import pytest

from instructmine.proxy.config import ProxyConfig


def test_memory_knobs_keep_the_protocol():
    base = ProxyConfig()
    assert base.loss_chunk > 0 and base.micro_batch_tokens > 0  # new path by default
    old = ProxyConfig(loss_chunk=0, micro_batch_tokens=0)
    assert old.protocol() == base.protocol()  # the experiments table keeps its rows
    assert old.trunk_key() == base.trunk_key()


def test_chunked_micro_batched_proxy_equals_the_full_logits_proxy(
    tmp_path, rule_data, tiny_llama_dir, monkeypatch
):
    from instructmine.micro_batch import micro_batches
    from instructmine.proxy.run import run_proxy
    from instructmine.proxy.trunk_cache import cache_for_pool
    from shared_paths import tiny_proxy

    parts = []

    def counting(inputs, max_tokens):
        got = micro_batches(inputs, max_tokens)
        parts.append(len(got))
        return got

    monkeypatch.setattr("instructmine.micro_batch.micro_batches", counting)
    settings = {**tiny_proxy(tiny_llama_dir), "steps": 4}
    old_cfg = ProxyConfig.model_validate({**settings, "loss_chunk": 0, "micro_batch_tokens": 0})
    new_cfg = ProxyConfig.model_validate({**settings, "loss_chunk": 5, "micro_batch_tokens": 40})
    cache = cache_for_pool(old_cfg, str(rule_data["pool"]), str(rule_data["eval"]), str(tmp_path))
    ids = sorted(cache.index())[:12]
    old = run_proxy(old_cfg, cache, ids, seed=0)
    assert parts == [1] * 4
    parts.clear()
    new = run_proxy(new_cfg, cache, ids, seed=0)
    assert len(parts) == 4 and min(parts) > 1  # every step really ran as micro-batches
    assert abs(old.eval_loss - old.base_eval_loss) > 1e-3  # training moved the eval loss
    assert new.eval_loss == pytest.approx(old.eval_loss, abs=1e-5)
    assert new.train_loss == pytest.approx(old.train_loss, abs=1e-5)
    assert new.n_eval_tokens == old.n_eval_tokens
