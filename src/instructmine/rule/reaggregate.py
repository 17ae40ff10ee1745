"""Recompute the ``<indicator>.<agg>`` columns of an existing experiments table from a scores
folder that has more indicators (e.g. perplexity or reward scored after the run started).

Each row's sub-dataset is rebuilt from the run's specs (``work_dir/specs.jsonl``: every
experiment's record ids), never guessed. Before anything is written, every row must check out:
its spec exists, names the same sub-dataset, size and source counts, every record id is in the
scores, and every aggregate the table already has is reproduced by the new scores (so the specs
still describe the records that were trained on, and the old indicators' scores are unchanged).
Eval losses and every other key are left as they are. The table is rewritten atomically while
holding the lock that appending experiment runs take, so no finished row can be lost.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from instructmine.rule.experiments_config import ExperimentsConfig
from instructmine.rule.table import AGGREGATE


class ReaggregateError(ValueError):
    """A row whose sub-dataset cannot be reconstructed; nothing was written."""


@dataclass
class ReaggregateSummary:
    """What a re-aggregation did."""

    table: str
    scores: list[str]
    rows: int
    added: list[str] = field(default_factory=list)
    filled: int = 0
    kept_without_scores: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


def _specs(work_dir: Path) -> dict[str, dict[str, Any]]:
    path = work_dir / "specs.jsonl"
    if not path.is_file():
        raise ReaggregateError(
            f"{path}: no specs file, so the sub-datasets' record ids cannot be reconstructed "
            "(it is written by `instructmine experiments run` for this config)"
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    return {s["experiment_id"]: s for s in map(json.loads, filter(str.strip, lines))}


def _same(old: float, new: float | None, rtol: float) -> bool:
    return new is not None and math.isclose(old, new, rel_tol=rtol, abs_tol=1e-12)


def _check(row: dict, spec: dict | None, where: str) -> None:
    eid = row["experiment_id"]
    if spec is None:
        raise ReaggregateError(f"{where}: experiment {eid!r} has no spec: its records are unknown")
    for key, want in (
        ("subset_id", row["subset_id"]),
        ("sources", row["sources"]),
        ("n_records", row["n_records"]),
    ):
        got = len(spec["record_ids"]) if key == "n_records" else spec.get(key)
        if got != want:
            raise ReaggregateError(
                f"{where}: experiment {eid!r} has {key} {want!r} but its spec {got!r}: "
                "the specs no longer describe the records it trained on"
            )


def recompute(
    rows: list[dict[str, Any]],
    specs: dict[str, dict[str, Any]],
    values: dict[str, Any],
    index: dict[str, int],
    median_for: list[str],
    where: str,
    rtol: float = 1e-9,
) -> tuple[list[dict[str, Any]], int]:
    """Rows with their aggregates recomputed from ``values`` (column -> array over ``index``);
    the number of aggregates that were null and now have a value. Raises on any mismatch."""
    from instructmine.rule.sampling import aggregates

    out, filled = [], 0
    for n, row in enumerate(rows, 1):
        here = f"{where} row {n}"
        spec = specs.get(row["experiment_id"])
        _check(row, spec, here)
        absent = [r for r in spec["record_ids"] if r not in index]
        if absent:
            raise ReaggregateError(
                f"{here}: records {absent[:5]} ({len(absent)} in all) of experiment "
                f"{row['experiment_id']!r} are not in the scores"
            )
        new = aggregates(values, [index[r] for r in spec["record_ids"]], median_for)
        for key, old in row.items():
            if not AGGREGATE.match(key) or key not in new:
                continue
            if old is None:
                filled += new[key] is not None
            elif not _same(old, new[key], rtol):
                raise ReaggregateError(
                    f"{here}: experiment {row['experiment_id']!r}: {key} recomputes to "
                    f"{new[key]!r} but the table has {old!r}; the sub-dataset cannot be "
                    "reconstructed (specs.jsonl rewritten with other records, or that "
                    "indicator's scores changed)"
                )
        out.append({**row, **new})
    return out, filled


def _rows(path: Path) -> list[dict[str, Any]]:
    """Every complete row; a line that is not JSON is an error (a rewrite must not drop it). A
    last line without its newline is a killed writer's remnant (appends would cut it too)."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(keepends=True), 1):
        if not line.endswith("\n") or not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError as e:
            raise ReaggregateError(f"{path}:{n}: not valid JSON ({e}); fix it first") from None
    return rows


def _columns(folders: list[Path], cfg: ExperimentsConfig) -> tuple[dict[str, Path], list | None]:
    """The score files of all folders (a later folder wins a name clash), and the columns to
    aggregate: the config's ``sampling.indicators`` (all when unset) plus every extra column."""
    import pyarrow.parquet as pq

    from instructmine.scoring.files import files_from_dir

    files: dict[str, Path] = {}
    extra: set[str] = set()
    for i, folder in enumerate(folders):
        found = files_from_dir(folder)
        files.update(found)
        if i or cfg.scores is None:
            for f in found.values():
                extra.update(n for n in pq.ParquetFile(f).schema_arrow.names if n != "id")
    wanted = cfg.sampling.indicators
    return files, None if wanted is None else sorted(set(wanted) | extra)


def reaggregate(
    cfg: ExperimentsConfig, extra: list[Path | str] | None = None
) -> ReaggregateSummary:
    """Recompute every row's aggregates of ``cfg.out`` from the scores of ``cfg.scores`` plus the
    ``extra`` score folders (same pool, e.g. indicators scored later; a later folder's column
    wins a name clash) and the specs in ``cfg.work_dir``; rewrite the table atomically. All or
    nothing."""
    from instructmine import atomic
    from instructmine.atomic import locked
    from instructmine.rule.sampling import numeric_columns
    from instructmine.scoring.files import load_scores

    folders = [Path(f) for f in ([cfg.scores] if cfg.scores else []) + list(extra or [])]
    if not folders:
        raise ReaggregateError("no scores folder: give one (--scores) or set `scores` in config")
    files, wanted = _columns(folders, cfg)
    table_path = Path(cfg.out)
    if not table_path.is_file():
        raise ReaggregateError(f"{table_path}: no experiments table to re-aggregate")
    specs = _specs(Path(cfg.work_dir))
    score_table = load_scores(files)
    values = numeric_columns(score_table, wanted)
    index = {rid: i for i, rid in enumerate(score_table.column("id").to_pylist())}
    with locked(table_path.with_name(table_path.name + ".lock")):
        rows = _rows(table_path)
        new_rows, filled = recompute(
            rows, specs, values, index, cfg.sampling.median_for, str(table_path)
        )
        atomic.write_text(table_path, "".join(json.dumps(r) + "\n" for r in new_rows))
    before = {k for r in rows for k in r if AGGREGATE.match(k)}
    after = {k for r in new_rows for k in r if AGGREGATE.match(k)}
    return ReaggregateSummary(
        table=str(table_path),
        scores=[str(f) for f in folders],
        rows=len(new_rows),
        added=sorted(after - before),
        filled=filled,
        kept_without_scores=sorted(k for k in before if k.rsplit(".", 1)[0] not in values),
    )
