"""Score a pool, join the indicator columns back onto it, and summarise them.

``score_pool`` is the one call a pipeline stage (or the demo) needs: it creates the indicators
(default: the offline set in ``indicators.registry.DEFAULT_INDICATORS``), runs them with the
local runner into ``out_dir`` (cached and resumable), writes ``out_dir/scores.json`` (files and
provenance: which model produced each column), optionally writes the pool with every indicator
column joined on, and returns a :class:`ScoreSummary` (per-column mean/std/min/max and the
Pearson correlation matrix between columns).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from instructmine.runners.parts import write_atomic_text

MANIFEST = "scores.json"


@dataclass
class ColumnStats:
    """Summary statistics of one indicator column."""

    n: int
    mean: float
    std: float
    min: float
    max: float


@dataclass
class ScoreSummary:
    """What a scoring run produced: files, provenance, statistics, correlations."""

    pool: str
    n_records: int
    files: dict[str, str]
    provenance: dict[str, dict[str, Any]]
    stats: dict[str, ColumnStats]
    correlation: dict[str, dict[str, float]] = field(default_factory=dict)
    joined: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def make_indicators(
    names: Sequence[str] | None = None, params: Mapping[str, Mapping[str, Any]] | None = None
) -> list:
    """Create indicators by name (default set when ``names`` is empty) with per-name params."""
    from instructmine.indicators.registry import DEFAULT_INDICATORS, create

    names = list(names or DEFAULT_INDICATORS)
    params = dict(params or {})
    unused = set(params) - set(names)
    if unused:
        raise ValueError(
            f"parameters given for indicator(s) not being run: {sorted(unused)} "
            f"(running: {', '.join(names)})"
        )
    return [create(n, **dict(params.get(n, {}))) for n in names]


def score_pool(
    pool: Path | str,
    out_dir: Path | str,
    indicators: Sequence[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    join: Path | str | None = None,
    window: int = 2048,
    chunk_size: int = 64,
    progress: bool = True,
    threads: int | None = None,
) -> ScoreSummary:
    """Score ``pool`` (canonical Parquet) with ``indicators`` into ``out_dir`` and summarise.

    ``params`` maps an indicator name to its parameters, e.g.
    ``{"perplexity": {"model": "smollm2-135m-instruct", "batch_size": 8}}``.
    With ``join``, also write the pool with every indicator column appended there.
    ``threads`` sets torch's thread count (default: torch's own choice).
    """
    from instructmine.runners.local import run_local

    pool, out_dir = Path(pool), Path(out_dir)
    inds = make_indicators(indicators, params)
    files = run_local(pool, inds, out_dir, window=window, chunk_size=chunk_size, progress=progress)
    table = load_scores(files)
    columns = [c for c in table.column_names if c != "id"]
    summary = ScoreSummary(
        pool=str(pool),
        n_records=table.num_rows,
        files={k: str(v) for k, v in files.items()},
        provenance={ind.name: ind.provenance() for ind in inds},
        stats=column_stats(table, columns),
        correlation=correlation(table, columns),
    )
    if join is not None:
        summary.joined = str(join_pool(pool, files, Path(join)))
    write_atomic_text(out_dir / MANIFEST, json.dumps(summary.to_dict(), indent=2))
    return summary


def load_scores(files: Mapping[str, Path | str]) -> pa.Table:
    """One table: ``id`` plus every indicator's columns (files must share the pool order)."""
    table = None
    for name, path in files.items():
        t = pq.read_table(path)
        if table is None:
            table = t
            continue
        if not t.column("id").equals(table.column("id")):
            raise ValueError(f"{path}: ids differ from the other score files ({name})")
        for col in t.column_names:
            if col != "id":
                table = table.append_column(col, t.column(col))
    if table is None:
        raise ValueError("no score files given")
    return table


def files_from_dir(out_dir: Path | str) -> dict[str, Path]:
    """The score files recorded in ``out_dir/scores.json``."""
    manifest = Path(out_dir) / MANIFEST
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest} not found: run `instructmine score` into that folder")
    return {k: Path(v) for k, v in json.loads(manifest.read_text())["files"].items()}


def join_pool(
    pool: Path | str, files: Mapping[str, Path | str], dest: Path | str, batch_rows: int = 8192
) -> Path:
    """Write ``pool`` with every indicator column appended (streamed; ids checked row by row)."""
    pool, dest = Path(pool), Path(dest)
    scores = load_scores(files)
    pf = pq.ParquetFile(pool)
    if pf.metadata.num_rows != scores.num_rows:
        raise ValueError(
            f"{pool} has {pf.metadata.num_rows} records but the scores cover {scores.num_rows}; "
            "score this pool first"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".tmp-{dest.name}")
    writer = None
    offset = 0
    try:
        for batch in pf.iter_batches(batch_size=batch_rows):
            part = scores.slice(offset, batch.num_rows)
            if not part.column("id").combine_chunks().equals(batch.column("id")):
                raise ValueError(f"{pool}: record order differs from the score files at {offset}")
            out = pa.Table.from_batches([batch])
            for col in part.column_names[1:]:
                out = out.append_column(col, part.column(col))
            if writer is None:
                writer = pq.ParquetWriter(tmp, out.schema)
            writer.write_table(out)
            offset += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(dest)
    return dest


def column_stats(table: pa.Table, columns: Sequence[str]) -> dict[str, ColumnStats]:
    """Mean, standard deviation (ddof 0), min and max per column."""
    out = {}
    for c in columns:
        x = table.column(c).to_numpy().astype(np.float64)
        if len(x) == 0:
            out[c] = ColumnStats(0, float("nan"), float("nan"), float("nan"), float("nan"))
            continue
        out[c] = ColumnStats(
            len(x), float(x.mean()), float(x.std()), float(x.min()), float(x.max())
        )
    return out


def correlation(table: pa.Table, columns: Sequence[str]) -> dict[str, dict[str, float]]:
    """Pearson correlation between columns (NaN for a constant column)."""
    if not columns or table.num_rows < 2:
        return {}
    m = np.stack([table.column(c).to_numpy().astype(np.float64) for c in columns])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.corrcoef(m)
    r = np.atleast_2d(r)
    return {a: {b: float(r[i, j]) for j, b in enumerate(columns)} for i, a in enumerate(columns)}


def render_summary(summary: ScoreSummary, console: Any = None) -> None:
    """Print the provenance, statistics and correlation tables with rich."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    prov = Table(title=f"Indicators on {summary.pool} ({summary.n_records} records)")
    for col in ("indicator", "model", "substitute for", "note"):
        prov.add_column(col)
    for name, p in summary.provenance.items():
        sub = p["paper_model"] if p["substitute"] else "-"
        prov.add_row(name, p["model_name"] or "-", sub or "-", p["note"] or "")
    console.print(prov)
    stats = Table(title="Summary")
    for col in ("column", "mean", "std", "min", "max"):
        stats.add_column(col, justify="right" if col != "column" else "left")
    for c, s in summary.stats.items():
        stats.add_row(c, f"{s.mean:.4g}", f"{s.std:.4g}", f"{s.min:.4g}", f"{s.max:.4g}")
    console.print(stats)
    cols = list(summary.correlation)
    if cols:
        corr = Table(title="Pearson correlation")
        corr.add_column("")
        for c in cols:
            corr.add_column(c, justify="right")
        for a in cols:
            corr.add_row(a, *(f"{summary.correlation[a][b]:+.2f}" for b in cols))
        console.print(corr)
    console.print(f"scores: {', '.join(summary.files.values())}")
    if summary.joined:
        console.print(f"pool with scores: {summary.joined}")
