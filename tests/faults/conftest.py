"""Fixtures of the fault-injection suite: a small canonical pool a tiny model learns from."""

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from instructmine.schema import table_from_records


@pytest.fixture(scope="session")
def train_pool(tmp_path_factory) -> Path:
    """32 single-turn arithmetic records."""
    records = [
        {
            "id": f"r{i}",
            "source": "test",
            "messages": [
                {"role": "user", "content": f"What is {i} plus {i}?"},
                {"role": "assistant", "content": f"The answer is {2 * i}."},
            ],
        }
        for i in range(32)
    ]
    path = tmp_path_factory.mktemp("faults_pool") / "pool.parquet"
    pq.write_table(table_from_records(records), path)
    return path
