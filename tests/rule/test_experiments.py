"""The experiments stage end to end on a tiny model: rows, resume, parallel workers."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from instructmine.rule.experiments import run_experiments
from instructmine.rule.experiments_config import load_config
from instructmine.rule.experiments_table import REQUIRED, read_rows

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_rows_follow_the_table_schema(experiments_yaml):
    cfg = load_config(experiments_yaml)
    summary = run_experiments(cfg, progress=False)
    rows = read_rows(cfg.out)
    assert summary.ran == len(rows) == summary.total == 5  # 4 subsets + 1 noise repeat
    for row in rows:
        assert set(REQUIRED) <= set(row)
        assert isinstance(row["experiment_id"], str) and isinstance(row["seed"], int)
        assert row["n_records"] == sum(row["sources"].values()) == 12
        assert math.isfinite(row["eval_loss"]) and row["eval_loss"] != row["base_eval_loss"]
        assert row["protocol"] == cfg.proxy.protocol()
        assert isinstance(row["mtld.mean"], float)
    assert len({r["base_eval_loss"] for r in rows}) == 1
    seeds = [r for r in rows if r["subset_id"] == rows[0]["subset_id"]]
    assert sorted(r["seed"] for r in seeds) == [0, 1]
    assert seeds[0]["eval_loss"] != seeds[1]["eval_loss"]
    again = run_experiments(cfg, progress=False)
    assert again.ran == 0 and len(read_rows(cfg.out)) == 5


def test_same_seed_same_loss(experiments_yaml):
    from instructmine.rule.experiments import prepare, run_experiment

    cfg = load_config(experiments_yaml)
    specs_path, trunk = prepare(cfg, progress=False)
    spec = json.loads(Path(specs_path).read_text().splitlines()[0])
    a = run_experiment(spec, cfg.proxy.model_dump(), trunk)
    b = run_experiment(spec, cfg.proxy.model_dump(), trunk)
    assert a["eval_loss"] == b["eval_loss"]


def _cli(config: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC}
    code = "from instructmine.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "experiments", "run", str(config), "--no-progress", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkilled_experiment_is_redone_and_finished_ones_are_not(experiments_yaml):
    slow = experiments_yaml.read_text().replace("steps: 3", "steps: 150")
    experiments_yaml.write_text(slow.replace("noise_subsets: 1", "noise_subsets: 0"))
    cfg = load_config(experiments_yaml)
    first = _cli(experiments_yaml, "--limit", "1")
    assert first.wait(timeout=300) == 0, first.stderr.read()
    done = read_rows(cfg.out)
    assert len(done) == 1
    victim = _cli(experiments_yaml)
    claims = Path(cfg.work_dir) / "claims"
    running = None
    while running is None:
        assert victim.poll() is None, victim.stderr.read()
        held = [p.read_text().split() for p in claims.glob("*.lock")]
        running = next((h[1] for h in held if h and h[1] != done[0]["experiment_id"]), None)
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert running not in {r["experiment_id"] for r in read_rows(cfg.out)}
    final = _cli(experiments_yaml)
    assert final.wait(timeout=300) == 0, final.stderr.read()
    rows = read_rows(cfg.out)
    ids = [r["experiment_id"] for r in rows]
    assert len(ids) == len(set(ids)) == 4
    assert running in ids
    assert rows[0] == done[0]  # the finished one was kept, not re-run


def test_two_workers_share_the_work(experiments_yaml):
    cfg = load_config(experiments_yaml).model_copy(update={"workers": 2})
    summary = run_experiments(cfg, progress=False)
    ids = [r["experiment_id"] for r in read_rows(cfg.out)]
    assert summary.ran == 5 and sorted(ids) == sorted(set(ids))
