"""Helpers shared by the io tests: count records of a source file independently of our code."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def load_records(path: Path) -> list:
    """All records of a JSON array / JSONL file (plain or .gz), with the standard library."""
    op = gzip.open if path.name.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        text = f.read()
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_jsonl(path: Path) -> list[dict]:
    """Records of a plain JSONL file (empty list when the file is empty)."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
