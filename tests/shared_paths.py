"""Paths every test area uses: the repository, its fixtures, and the shared data sets."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()
FIXTURES = REPO / "tests" / "fixtures"


def shared_data_or_skip() -> Path:
    """Return ``../shared/data`` or skip the test with the reason it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"integration data not found at {SHARED_DATA} (present in the project's CI)")
    return SHARED_DATA
