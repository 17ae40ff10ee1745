"""Build the candidate pool of the real rule run: N records per source, seeded (issue 13).

Usage: python benchmarks/rule/make_candidates.py OUT.parquet N POOL.parquet...
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa

from instructmine import atomic
from instructmine.io.pool import read_pool


def main(out: str, per_source: int, pools: list[str]) -> None:
    """Write ``per_source`` random records of each pool (seed 0) into one pool file."""
    rng = np.random.default_rng(0)
    parts = []
    for path in pools:
        t = read_pool(path)
        take = np.sort(rng.choice(t.num_rows, size=min(per_source, t.num_rows), replace=False))
        parts.append(t.take(pa.array(take)))
        print(f"{path}: {len(take)} of {t.num_rows}")
    atomic.write_table(pa.concat_tables(parts, promote_options="permissive"), out)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
