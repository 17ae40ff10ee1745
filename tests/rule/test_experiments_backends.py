"""The same experiment set on the inline, processes and Ray backends gives the same rows."""

from __future__ import annotations

from instructmine.rule.experiments import run_experiments
from instructmine.rule.experiments_config import load_config
from instructmine.rule.experiments_table import read_rows


def _rows(path) -> list[dict]:
    """Rows by id, wall seconds left out (the only field that depends on the machine)."""
    return sorted(
        ({k: v for k, v in r.items() if k != "seconds"} for r in read_rows(path)),
        key=lambda r: r["experiment_id"],
    )


def test_inline_processes_and_ray_give_identical_rows(ray_cluster, experiments_yaml):
    base = load_config(experiments_yaml)
    small = base.sampling.model_copy(update={"k": 3, "noise_subsets": 1, "noise_seeds": 2})
    base = base.model_copy(update={"sampling": small})  # 3 sub-datasets + 1 noise repeat
    runs = {
        "inline": {},
        "processes": {"workers": 2},
        "ray": {"runner": "ray", "ray_address": ray_cluster.address},
    }
    tables = {}
    for name, update in runs.items():
        out = base.out.with_name(f"{name}.jsonl")
        cfg = base.model_copy(update={**update, "out": out, "work_dir": base.work_dir / name})
        summary = run_experiments(cfg, progress=False)
        assert summary.ran == 4
        tables[name] = _rows(out)
    assert len(tables["inline"]) == 4
    assert tables["processes"] == tables["inline"]
    assert tables["ray"] == tables["inline"]
