"""The proxy's ``epochs`` mode: training steps grow with the sub-dataset, as a size search needs."""

from __future__ import annotations

import pytest

from instructmine.proxy.config import ProxyConfig
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
    from instructmine.proxy.run import run_proxy
    from instructmine.proxy.trunk_cache import cache_for_pool
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


def test_concurrent_builders_make_the_trunk_cache_once(
    tmp_path, rule_data, tiny_llama_dir, monkeypatch
):
    """Size-search workers start together: one builds the cache, the other waits and opens it."""
    import threading

    from instructmine.proxy import trunk_cache
    from shared_paths import tiny_proxy

    cfg = ProxyConfig.model_validate(tiny_proxy(tiny_llama_dir))
    real, builds, paths = trunk_cache._build, [], []

    def counting(*args, **kwargs):
        builds.append(1)
        return real(*args, **kwargs)

    def worker():
        args = (cfg, str(rule_data["pool"]), str(rule_data["eval"]), str(tmp_path))
        paths.append(trunk_cache.cache_for_pool(*args).path)

    monkeypatch.setattr(trunk_cache, "_build", counting)
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(paths) == 2 and paths[0] == paths[1]
    assert len(builds) == 1  # the second found the first one's folder after the lock


def test_cli_builds_the_cache_workers_then_find(tmp_path, rule_data, tiny_llama_dir, monkeypatch):
    from typer.testing import CliRunner

    from instructmine.cli.app import app
    from instructmine.proxy import trunk_cache
    from shared_paths import tiny_proxy

    settings = {k: v for k, v in tiny_proxy(tiny_llama_dir).items() if k != "threads"}
    sets = [a for k, v in settings.items() for a in ("--set", f"{k}={v}")]
    args = ["experiments", "trunk", str(rule_data["pool"]), str(rule_data["eval"])]
    res = CliRunner().invoke(app, [*args, "--dir", str(tmp_path), *sets, "--no-progress"])
    assert res.exit_code == 0, res.output
    built = res.stdout.strip().splitlines()[-1]  # stderr may carry a library progress bar

    def no_build(*args, **kwargs):
        raise AssertionError("the worker rebuilt a cache the CLI had built")

    monkeypatch.setattr(trunk_cache, "_build", no_build)
    cfg = ProxyConfig.model_validate({**settings, "epochs": 1, "threads": 1})  # not trunk keys
    cache = trunk_cache.cache_for_pool(cfg, rule_data["pool"], rule_data["eval"], tmp_path)
    assert str(cache.path) == built
    bad = CliRunner().invoke(app, [*args, "--set", "cached_layerz=1"])
    assert bad.exit_code != 0 and "cached_layerz" in bad.output


def test_a_killed_trunk_build_resumes_at_its_first_missing_block(
    tmp_path, rule_data, tiny_llama_dir, monkeypatch
):
    """Finished blocks survive a kill; the resumed cache equals a build that was never killed."""
    import numpy as np

    from instructmine.proxy import trunk, trunk_cache
    from shared_paths import tiny_proxy

    cfg = ProxyConfig.model_validate(tiny_proxy(tiny_llama_dir))
    monkeypatch.setattr(trunk_cache, "BLOCK", 1)  # one batch per block: several blocks here
    real, calls = trunk.trunk_states, []

    def dies_on_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the kill, after two finished blocks
        return real(*args, **kwargs)

    args = (cfg, str(rule_data["pool"]), str(rule_data["eval"]))
    monkeypatch.setattr(trunk, "trunk_states", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        trunk_cache.cache_for_pool(*args, str(tmp_path / "a"))
    parts = list((tmp_path / "a").glob("*.parts/block-*.npy"))
    assert len(parts) == 2 and not list((tmp_path / "a").glob("*/meta.json"))

    calls.clear()
    monkeypatch.setattr(trunk, "trunk_states", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    resumed = trunk_cache.cache_for_pool(*args, str(tmp_path / "a"))
    n_batches = -(-len(resumed.ids) // 8)
    assert len(calls) == n_batches - 2  # the two finished blocks were read back, not rerun
    assert not list((tmp_path / "a").glob("*.parts"))  # parts removed once complete
    fresh = trunk_cache.cache_for_pool(*args, str(tmp_path / "b"))
    assert resumed.path.name == fresh.path.name and resumed.ids == fresh.ids
    assert np.array_equal(resumed.offsets, fresh.offsets)
    assert np.array_equal(np.asarray(resumed.states), np.asarray(fresh.states))


def test_a_subset_is_a_set(tmp_path, rule_data, tiny_llama_dir):
    """The same ids in two orders at one seed: the identical proxy result (issue 28 item 5)."""
    from instructmine.proxy.run import run_proxy
    from instructmine.proxy.trunk_cache import cache_for_pool
    from shared_paths import tiny_proxy

    cfg = ProxyConfig.model_validate(tiny_proxy(tiny_llama_dir))
    cache = cache_for_pool(cfg, str(rule_data["pool"]), str(rule_data["eval"]), str(tmp_path))
    ids = sorted(cache.index())[:12]
    forward = run_proxy(cfg, cache, ids, seed=3)
    backward = run_proxy(cfg, cache, ids[::-1], seed=3)
    shuffled = run_proxy(cfg, cache, ids[1::2] + ids[::2], seed=3)
    assert forward.eval_loss == backward.eval_loss == shuffled.eval_loss
    assert forward.train_loss == backward.train_loss == shuffled.train_loss
    other_seed = run_proxy(cfg, cache, ids, seed=4)
    assert other_seed.train_loss != forward.train_loss  # the seed still matters
