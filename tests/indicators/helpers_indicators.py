"""Helpers shared by the indicator and runner tests: a small real pool with edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from instructmine.schema import table_from_records

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()

EDGE_CASES = [
    {
        "id": "edge-empty-prompt",
        "messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "Fine."}],
    },
    {
        "id": "edge-no-prompt-turn",
        "messages": [{"role": "assistant", "content": "Hello there, how can I help?"}],
    },
    {
        "id": "edge-unicode",
        "messages": [
            {"role": "user", "content": "Traduis «bonjour» en japonais — et en grec ?"},
            {"role": "assistant", "content": "こんにちは; Γειά σου\u00a0— İstanbul 🙂"},
        ],
    },
    {
        "id": "edge-multi-turn",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Name a prime."},
            {"role": "assistant", "content": "Seven."},
            {"role": "user", "content": "Another one?"},
            {"role": "assistant", "content": "Eleven, and thirteen too."},
        ],
    },
    {
        "id": "edge-long-response",
        "messages": [
            {"role": "user", "content": "Write a long essay."},
            {
                "role": "assistant",
                "content": " ".join(
                    f"Sentence {i} says data quality matters for tuning models." for i in range(60)
                ),
            },
        ],
    },
    {
        "id": "edge-digits-only",
        "messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4."}],
    },
]


def alpaca_records(n: int = 12) -> list[dict]:
    """Real Alpaca records from the fixtures, as canonical records."""
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text(encoding="utf-8"))[:n]
    out = []
    for i, r in enumerate(recs):
        user = r["instruction"] + (f"\n\n{r['input']}" if r["input"] else "")
        out.append(
            {
                "id": f"alpaca-{i:03d}",
                "messages": [
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": r["output"]},
                ],
            }
        )
    return out


def write_pool(path: Path, records: list[dict]) -> Path:
    """Write canonical records to a pool Parquet file."""
    recs = [{"source": "test", **r} for r in records]
    pq.write_table(table_from_records(recs), path)
    return path


def shared_data() -> Path:
    """``../shared/data``, or skip the test saying it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"integration data not found at {SHARED_DATA} (present in the project's CI)")
    return SHARED_DATA
