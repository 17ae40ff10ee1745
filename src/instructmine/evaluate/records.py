"""Read evaluation files: JSONL or a JSON array, plain or gzipped, with numbered records."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path


def read_records(path: Path, what: str = "evaluation") -> Iterator[tuple[int, dict]]:
    """Yield ``(n, record)``: the line number for JSONL, the 1-based index for a JSON array.

    A missing file or a broken line raises an error naming the file (and line).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        if path.name.endswith((".json", ".json.gz")):
            data = json.load(fh)
            if not isinstance(data, list):
                raise ValueError(f"{path}: expected a JSON list of records")
            yield from enumerate(data, 1)
            return
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}: line {n} is not valid JSON ({err})") from err
