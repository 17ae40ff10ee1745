"""Fixtures of the rule tests: a small multi-source pool, its scores, an eval pool, a config."""

from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from instructmine.schema import table_from_records
from shared_paths import tiny_proxy

SOURCES = ("alpha", "beta", "gamma")


def _conv(i: int, source: str) -> list[dict[str, str]]:
    reply = {"alpha": f"The answer is {2 * i}.", "beta": "Yes. " * (1 + i % 5)}
    return [
        {"role": "user", "content": f"{source}: what is {i} plus {i}?"},
        {"role": "assistant", "content": reply.get(source, f"Sure, {i} words " * (1 + i % 3))},
    ]


@pytest.fixture(scope="session")
def rule_data(tmp_path_factory) -> dict[str, Path]:
    """A 3-source candidate pool (24 records each), its scores folder and an eval pool."""
    from instructmine.scoring import score_pool

    d = tmp_path_factory.mktemp("rule_data")
    records = [
        {"id": f"{s}{i}", "source": s, "messages": _conv(i, s)} for s in SOURCES for i in range(24)
    ]
    pq.write_table(table_from_records(records), d / "pool.parquet")
    evals = [
        {"id": f"e{i}", "source": "eval", "messages": _conv(100 + i, "alpha")} for i in range(6)
    ]
    pq.write_table(table_from_records(evals), d / "eval.parquet")
    score_pool(d / "pool.parquet", d / "scores", indicators=["mtld"], progress=False)
    return {"pool": d / "pool.parquet", "eval": d / "eval.parquet", "scores": d / "scores"}


@pytest.fixture
def experiments_yaml(tmp_path, rule_data, tiny_llama_dir) -> Path:
    """A config of 4 sub-datasets of 12 records, one noise sub-dataset at 2 seeds, tiny model."""
    cfg = {
        "pool": str(rule_data["pool"]),
        "scores": str(rule_data["scores"]),
        "eval": str(rule_data["eval"]),
        "out": "experiments.jsonl",
        "work_dir": "work",
        "trunk_dir": "trunk",
        "proxy": tiny_proxy(tiny_llama_dir),
        "sampling": {"k": 4, "n_records": 12, "noise_subsets": 1, "noise_seeds": 2},
    }
    path = tmp_path / "experiments.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path
