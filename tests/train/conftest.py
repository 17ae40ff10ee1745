"""Fixtures of the training tests: small canonical pools written to Parquet."""

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from instructmine.schema import table_from_records


def conversation(i: int) -> list[dict[str, str]]:
    """A deterministic single-turn arithmetic conversation (learnable by a tiny model)."""
    return [
        {"role": "user", "content": f"What is {i} plus {i}?"},
        {"role": "assistant", "content": f"The answer is {2 * i}. " * (1 + i % 3)},
    ]


def write_pool(path: Path, conversations: list[list[dict[str, str]]], prefix: str = "r") -> Path:
    """Write conversations as a canonical pool Parquet."""
    records = [
        {"id": f"{prefix}{i}", "source": "test", "messages": m} for i, m in enumerate(conversations)
    ]
    pq.write_table(table_from_records(records), path)
    return path


@pytest.fixture(scope="session")
def make_conversation():
    """The :func:`conversation` helper, for tests that need more records."""
    return conversation


@pytest.fixture(scope="session")
def train_pool(tmp_path_factory) -> Path:
    """64 single-turn records."""
    d = tmp_path_factory.mktemp("train_pool")
    return write_pool(d / "pool.parquet", [conversation(i) for i in range(64)])


@pytest.fixture(scope="session")
def eval_pool(tmp_path_factory) -> Path:
    """16 held-out records of the same task."""
    d = tmp_path_factory.mktemp("eval_pool")
    return write_pool(d / "eval.parquet", [conversation(i) for i in range(100, 116)], "e")


@pytest.fixture(scope="module", autouse=True)
def _one_thread_for_tiny_models(request):
    """Tiny models gain nothing from a second thread, and on a shared 2-core machine
    OpenMP spin-waiting makes them several times slower. Module-scoped so it also covers
    module-scoped training fixtures; restored afterwards. The real-model module keeps
    every thread."""
    import torch

    if request.module.__name__.endswith("test_integration"):
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
