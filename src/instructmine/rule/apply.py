"""Apply a rule per record, batch by batch: ``(ids, predicted log loss)`` with memory flat in
pool size. Scores come from a score folder (``scores.json``) or Parquet files sharing row order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from instructmine.rule.rules import Rule, RuleError


def score_files(scores: Path | str) -> list[Path]:
    """The Parquet files behind SCORES: a score folder's files, or SCORES itself."""
    from instructmine.scoring.files import files_from_dir

    path = Path(scores)
    if path.is_dir():
        return list(files_from_dir(path).values())
    if not path.is_file():
        raise RuleError(
            f"{path}: no such score file or folder (make one with `instructmine score`)"
        )
    return [path]


#: Parameters that change how fast an indicator runs, not its values.
SPEED_ONLY_PARAMS = frozenset({"batch_size"})


def param_mismatches(rule: Rule, scores: Path | str) -> dict[str, dict[str, list[Any]]]:
    """Per score column, the parameters that differ between the rule's fit and a score folder's
    ``scores.json``, as ``{param: [rule's, scores']}``. Empty when they agree, when SCORES is a
    file (it records no parameters) or when the rule records none (the paper's rules)."""
    import json

    manifest = Path(scores) / "scores.json"
    if not manifest.is_file():
        return {}
    provenance = json.loads(manifest.read_text(encoding="utf-8")).get("provenance") or {}
    out: dict[str, dict[str, list[Any]]] = {}
    for need in rule.indicators:
        have = (provenance.get(need.indicator or need.column) or {}).get("params")
        if not need.params or have is None:
            continue
        diff = {
            k: [need.params.get(k), have.get(k)]
            for k in sorted(set(need.params) | set(have))
            if k not in SPEED_ONLY_PARAMS and need.params.get(k) != have.get(k)
        }
        if diff:
            out[need.column] = diff
    return out


def mismatch_warnings(rule_name: str, mismatches: dict[str, dict[str, list[Any]]]) -> list[str]:
    """One warning line per column of :func:`param_mismatches` (the CLI and the demo print it)."""
    return [
        f"warning: {column} was scored with other parameters than rule {rule_name!r} was "
        f"fitted with ("
        + ", ".join(f"{k} {fit!r} in the fit, {got!r} here" for k, (fit, got) in diff.items())
        + "); its coefficients assume the fit's scale"
        for column, diff in mismatches.items()
    ]


def column_files(rule: Rule, files: list[Path]) -> dict[str, Path]:
    """Which file holds each column the rule needs; a clear error naming any that are missing."""
    where: dict[str, Path] = {}
    for f in files:
        for name in pq.ParquetFile(f).schema_arrow.names:
            where.setdefault(name, f)
    missing = [c for c in rule.columns if c not in where]
    if missing or "id" not in where:
        names = ", ".join(str(f) for f in files)
        raise RuleError(
            f"rule {rule.name!r} needs score columns {missing or ['id']} that {names} lacks; "
            + _how_to_score(missing)
        )
    return {c: where[c] for c in ["id", *rule.columns]}


def _how_to_score(columns: list[str]) -> str:
    """The ``score`` command that computes ``columns``; columns no indicator computes are named."""
    from instructmine.indicators.registry import UnknownIndicatorError, create

    known, unknown = [], []
    for c in columns:
        try:
            create(c)
            known.append(c)
        except (UnknownIndicatorError, ValueError):
            unknown.append(c)
    need = " ".join(f"-i {c}" for c in known)
    hint = (
        f"score the pool with them first (`instructmine score POOL -o OUT {need}`)" if known else ""
    )
    if unknown:
        hint += "; " if hint else ""
        hint += f"no indicator computes {unknown} (`instructmine indicators` lists the columns)"
    return hint or "score the pool first (`instructmine score POOL -o OUT`)"


def _exact(batches: Iterator[pa.RecordBatch], n: int) -> Iterator[pa.Table]:
    """Re-chunk a stream of record batches into tables of exactly n rows (the last may be short)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for b in batches:
        pending.append(b)
        count += b.num_rows
        while count >= n:
            t = pa.Table.from_batches(pending)
            yield t.slice(0, n)
            rest = t.slice(n).combine_chunks()
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


def iter_predictions(
    rule: Rule, scores: Path | str, batch_rows: int = 65536
) -> Iterator[tuple[pa.Array, np.ndarray]]:
    """Per batch: the records' ids and predicted log eval loss (NaN where a score is null)."""
    files = score_files(scores)
    where = column_files(rule, files)
    by_file: dict[Path, list[str]] = {}
    for col, f in where.items():  # every file's ids are read too, to check the rows align
        by_file.setdefault(f, ["id"] if col != "id" else []).append(col)
    # pre_buffer=False: pyarrow's default pre-buffering holds far more than one batch, and how
    # much grows with the file (measured: 5x the peak for a 10x larger pool)
    streams = {
        f: _exact(
            pq.ParquetFile(f, pre_buffer=False).iter_batches(batch_size=batch_rows, columns=cols),
            batch_rows,
        )
        for f, cols in by_file.items()
    }
    id_file = where["id"]
    while True:
        parts = {f: next(s, None) for f, s in streams.items()}
        if all(p is None for p in parts.values()):
            return
        if any(p is None for p in parts.values()) or len({p.num_rows for p in parts.values()}) > 1:
            raise RuleError(f"score files {list(streams)} differ in length: rescore the pool")
        ids = parts[id_file].column("id").combine_chunks()
        for f, p in parts.items():
            if f != id_file and not p.column("id").combine_chunks().equals(ids):
                raise RuleError(f"{f}: ids differ from {id_file}: rescore the pool")
        values = {
            c: parts[where[c]].column(c).to_numpy(zero_copy_only=False).astype(float)
            for c in rule.columns
        }
        yield ids, rule.predict(values)
