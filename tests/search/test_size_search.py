"""The size search on a cheap objective with two local minima: finds the global one, resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from cheap_objective import loss_of

from instructmine.fingerprint import digest_json, digest_json_lists
from instructmine.io import ingest, read_pool
from instructmine.search.config import SearchConfig, load_config
from instructmine.search.run import log_grid, pool_digest, run_search
from instructmine.select.trials import TrialsTable
from shared_paths import FIXTURES, REPO

HERE = Path(__file__).parent


def _cfg(tmp_path, **kw):
    doc = {
        "objective": {"factory": "cheap_objective:two_minima", "params": {}},
        "out": str(tmp_path / "search"),
        "lo": 50,
        "hi": 20000,
        "trials": 30,
        "baseline": "none",
    }
    doc.update(kw)
    return SearchConfig(**doc)


def test_log_grid():
    assert log_grid(10, 1000, 3) == [10, 100, 1000]
    assert log_grid(50, 20000, 6)[0] == 50 and log_grid(50, 20000, 6)[-1] == 20000
    assert log_grid(5, 8, 10) == [5, 6, 7, 8]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blendsearch_finds_the_global_minimum(tmp_path, seed):
    assert loss_of(300) > loss_of(5000) and loss_of(300) < loss_of(1200)  # two minima
    result = run_search(_cfg(tmp_path, seed=seed))
    assert abs(result.best_n - 5000) <= 500
    table = TrialsTable(tmp_path / "search" / "trials.jsonl")
    tops = table.top()
    assert len(tops) == 30 and result.ran == 30
    assert {r["phase"] for r in table.rows.values()} == {"grid", "blend"}
    assert set(log_grid(50, 20000, 6)) <= set(tops)
    assert all(50 <= n <= 20000 for n in tops)


def test_random_baseline_beside_every_n(tmp_path):
    result = run_search(_cfg(tmp_path, trials=8, baseline="all", random_seeds=[0, 1, 2]))
    assert len([r for r in result.rows if r.loss is not None]) == 8
    for row in result.rows:
        assert row.random_seeds == 3
        assert row.random_mean == pytest.approx(loss_of(row.n) + 0.5 + 0.01)
        assert row.random_sd == pytest.approx(0.01)
    # everything is in the table: a second run evaluates nothing
    again = run_search(_cfg(tmp_path, trials=8, baseline="all", random_seeds=[0, 1, 2]))
    assert again.ran == 0 and again.reused == 8 * 4 and again.best_n == result.best_n


def test_config_errors(tmp_path):
    with pytest.raises(ValueError, match="at least 3 random_seeds"):
        _cfg(tmp_path, baseline="all", random_seeds=[0, 1])
    with pytest.raises(ValueError, match="larger than lo"):
        _cfg(tmp_path, lo=100, hi=100)
    (tmp_path / "c.yaml").write_text("lo: 1\nhi: 9\nout: x\nobjective: {factory: nope}\n")
    cfg = load_config(tmp_path / "c.yaml")
    assert cfg.out == tmp_path / "x"
    with pytest.raises(ValueError, match="package.module:function"):
        run_search(cfg)


def _cli(config, **kw):
    env = dict(os.environ, PYTHONPATH=f"{REPO / 'src'}:{HERE}", COLUMNS="200")
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from instructmine.cli import main; main()",
            "search-size",
            str(config),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kw,
    )


def test_killed_search_resumes_without_repeating_finished_trials(tmp_path):
    calls = tmp_path / "calls.txt"
    doc = {
        "objective": {
            "factory": "cheap_objective:two_minima",
            "params": {"sleep": 0.4, "calls": str(calls)},
        },
        "out": "search",
        "lo": 50,
        "hi": 20000,
        "trials": 10,
        "grid": 4,
        "random_seeds": [0, 1, 2],
        "workers": 2,
    }
    config = tmp_path / "search.yaml"
    config.write_text(yaml.safe_dump(doc))
    trials = tmp_path / "search" / "trials.jsonl"
    proc = _cli(config, start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if trials.exists() and len(trials.read_text().splitlines()) >= 6:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)  # let orphaned workers notice
    before = TrialsTable(trials)
    assert 6 <= len(before) < 40
    finished_before = set(before.rows)
    proc = _cli(config)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    after = TrialsTable(trials)
    lines = [json.loads(x)["key"] for x in trials.read_text().splitlines() if x.strip()]
    assert len(lines) == len(set(lines)) == len(after)  # no trial recorded twice
    assert len(after.top()) == 10 and len(after) == 10 * 4
    started = calls.read_text().split()
    for key in finished_before:  # a trial finished before the kill never ran again
        assert started.count(key) == 1, key
    assert f"best n: {min(after.top(), key=after.top().get)}" in out


def test_a_torn_last_line_never_swallows_the_next_finished_trial(tmp_path):
    path = tmp_path / "trials.jsonl"
    table = TrialsTable(path)
    table.append({"key": "top:100:0", "arm": "top", "n": 100, "loss": 1.5})
    with open(path, "ab") as fh:  # a writer killed mid-line
        fh.write(b'{"key": "top:200:0", "ar')
    reread = TrialsTable(path)
    assert set(reread.rows) == {"top:100:0"} and reread.torn == 1
    reread.append({"key": "top:300:0", "arm": "top", "n": 300, "loss": 1.2})
    final = TrialsTable(path)
    assert final.top() == {100: 1.5, 300: 1.2} and final.torn == 0


def test_resume_refuses_another_objective_but_takes_a_bigger_budget(tmp_path):
    first = run_search(_cfg(tmp_path, trials=6, grid=3))
    rows = TrialsTable(tmp_path / "search" / "trials.jsonl").rows
    assert first.ran == 6 and len({r["setup"] for r in rows.values()}) == 1
    more = run_search(_cfg(tmp_path, trials=8, grid=3))  # budget, not setup: resumes
    assert (more.reused, more.ran) == (6, 2)
    other = {"factory": "cheap_objective:two_minima", "params": {"sleep": 0.0}}
    with pytest.raises(ValueError, match=r"trials.jsonl: trial .* another objective.*new `out:`"):
        run_search(_cfg(tmp_path, trials=8, grid=3, objective=other))


def test_the_pool_digest_streams_the_same_value_as_the_whole_table(tmp_path):
    pool = tmp_path / "pool.parquet"  # real Dolly records (non-ASCII, multi-line), 3k rows
    ingest([FIXTURES / "dolly_3k.json"], pool)
    t = read_pool(pool, columns=["id", "messages"])
    whole = digest_json([t.column("id").to_pylist(), t.column("messages").to_pylist()])
    assert pool_digest(pool) == whole == pool_digest(pool, batch_size=97)  # many batches


def test_the_streamed_json_digest_equals_digest_json():
    rows = [{"role": "user", "content": "café\nnaïve"}, {"content": "ß", "role": "assistant"}]
    assert digest_json_lists([iter([]), iter(rows), iter(["a", 1, None])]) == digest_json(
        [[], rows, ["a", 1, None]]
    )
    assert digest_json_lists([]) == digest_json([])
    assert digest_json_lists([iter(rows)]) != digest_json_lists([iter(rows[::-1])])
