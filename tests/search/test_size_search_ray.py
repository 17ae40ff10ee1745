"""The size search with ``runner: ray`` on the two-node loopback cluster: the same trials
table as a local run, and a re-run resumes with nothing evaluated again."""

from __future__ import annotations

from instructmine.search.config import SearchConfig
from instructmine.search.run import run_search
from instructmine.select.trials import TrialsTable

KEYS = ("key", "n", "arm", "seed", "phase", "loss")


def _cfg(out, **kw) -> SearchConfig:
    doc = {
        "objective": {"factory": "cheap_objective:two_minima", "params": {}},
        "out": str(out),
        "lo": 50,
        "hi": 20000,
        "trials": 10,
        "baseline": "grid",
        "random_seeds": [0, 1, 2],
        **kw,
    }
    return SearchConfig(**doc)


def _table(path) -> list[tuple]:
    return [tuple(r[k] for k in KEYS) for r in TrialsTable(path).rows.values()]


def test_ray_trials_equal_local_and_resume(ray_cluster, tmp_path):
    local = run_search(_cfg(tmp_path / "local"))
    ray_cfg = _cfg(tmp_path / "ray", runner="ray", ray_address=ray_cluster.address)
    on_ray = run_search(ray_cfg)
    assert on_ray.ran == local.ran == len(_table(tmp_path / "local" / "trials.jsonl"))
    assert _table(tmp_path / "ray" / "trials.jsonl") == _table(tmp_path / "local" / "trials.jsonl")
    assert on_ray.best_n == local.best_n
    again = run_search(ray_cfg)
    assert again.ran == 0 and again.reused == on_ray.ran


def test_two_ray_workers_finish_every_trial_once(ray_cluster, tmp_path):
    cfg = _cfg(tmp_path / "ray", runner="ray", ray_address=ray_cluster.address, workers=2)
    result = run_search(cfg)
    rows = [line for line in (tmp_path / "ray" / "trials.jsonl").read_text().splitlines()]
    assert result.ran == len(rows) == len(TrialsTable(tmp_path / "ray" / "trials.jsonl"))
    assert len(TrialsTable(tmp_path / "ray" / "trials.jsonl").top()) == 10
